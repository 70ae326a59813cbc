/**
 * Seeded, stratified train/holdout splits. Files with identical content (same sha256, when
 * known) always land on the same side, so a split cannot leak an image into its own holdout.
 */
import { createRng } from './rng.ts';

/** What stratifiedSplit needs from an item. */
export interface SplittableItem {
  label: string | null;
  sha256?: string;
}

/**
 * Splits `items` into train and holdout, taking round(fraction × n) of each label (null labels
 * form their own stratum) into holdout. Deterministic for the same items, order, fraction and
 * seed; both outputs keep the input order.
 */
export function stratifiedSplit<T extends SplittableItem>(
  items: readonly T[],
  fraction: number,
  seed: number,
): { train: T[]; holdout: T[] } {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`fraction must be between 0 and 1, got ${fraction}`);
  // Group duplicates (by content hash) so they move together; the first copy's label decides.
  const groups: number[][] = [];
  const bySha = new Map<string, number[]>();
  items.forEach((item, i) => {
    const existing = item.sha256 ? bySha.get(item.sha256) : undefined;
    if (existing) {
      existing.push(i);
      return;
    }
    const group = [i];
    groups.push(group);
    if (item.sha256) bySha.set(item.sha256, group);
  });
  const strata = new Map<string, number[][]>();
  for (const group of groups) {
    const key = items[group[0]].label ?? '\u0000unlabelled';
    const list = strata.get(key) ?? [];
    list.push(group);
    strata.set(key, list);
  }
  const rng = createRng(seed);
  const inHoldout = new Set<number>();
  for (const key of [...strata.keys()].sort()) {
    const list = rng.shuffle([...strata.get(key)!]);
    const total = list.reduce((n, g) => n + g.length, 0);
    const want = Math.round(total * fraction);
    let taken = 0;
    for (const group of list) {
      if (taken >= want) break;
      // Avoid overshooting with a large duplicate group when a smaller one may fit later.
      if (taken + group.length > want && group.length > 1) continue;
      group.forEach((i) => inHoldout.add(i));
      taken += group.length;
    }
  }
  const train: T[] = [];
  const holdout: T[] = [];
  items.forEach((item, i) => (inHoldout.has(i) ? holdout : train).push(item));
  return { train, holdout };
}
