// An ensemble's selection set must be new to every member: a member fitted on some of those images scores
// too well there, and the ensemble's selection metrics and threshold would be optimistic. Members record
// what they were fitted on in training-data.csv (content sha256 per image; an ensemble member, its members'),
// so the check is by content (models/fitted-images.ts).
import path from 'node:path';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { fittedPaths, splitFlags } from '../models/fitted-images.ts';

/** A member as the overlap check sees it: its metadata and what it was fitted on (modelFittedHashes). */
export interface OverlapMember {
  metadata: ModelMetadata;
  fitted: { hashes: ReadonlySet<string>; unchecked: readonly string[] };
}

/**
 * Throws, naming the member, how many selection images it was fitted on, one of them and what to do, when any
 * member's training manifest contains a selection image. Returns one line per member whose data is unknown, or
 * whose array (.npz) training images cannot match files by content and were not kept away from the selection folder.
 */
export function checkSelectionOverlap(
  members: readonly OverlapMember[], selection: { sha256: readonly string[]; paths: readonly string[] }, selectFolder: string,
  split: SelectionSplit = { seed: 42, holdoutFraction: 0.15 },
): string[] {
  const unknown: string[] = [];
  for (const m of members) {
    for (const u of m.fitted.unchecked) unknown.push(`member "${m.metadata.id}": training data of ${u} unknown, so whether it was trained on selection images cannot be checked`);
    const t = m.metadata.training;
    if (t?.dataRoot?.toLowerCase().endsWith('.npz') && !nearExcluded(t.hyperparameters?.excludedNear, selectFolder, split)) {
      unknown.push(`member "${m.metadata.id}" was trained on array images (${path.basename(t.dataRoot)}), which cannot match the selection files by content, without --exclude-near ${selectFolder}: copies of selection images at its size may be in its training data`);
    }
    const hits = fittedPaths(m.fitted.hashes, selection);
    if (hits.length === 0) continue;
    const flags = splitFlags(m.metadata);
    const same = flags ? ` (it was trained with ${flags}; pass the same to cxr ensemble)` : '';
    throw new Error(
      `member "${m.metadata.id}" was trained on ${hits.length} of the ${selection.sha256.length} selection images of ${selectFolder} (e.g. ${hits[0]}): `
      + `its scores and the ensemble's threshold would be optimistic. Select on images none of the members was trained on${same}, or leave out --select.`,
    );
  }
  return unknown;
}

/** How the ensemble's selection set is drawn from its data folder. */
export interface SelectionSplit {
  seed: number;
  holdoutFraction: number;
  maxPerClass?: number;
}

/**
 * Whether an .npz run's exclusions (as recorded in its hyperparameters) cover the selection set of `folder`: a
 * whole folder at or above it (--exclude-near), or that folder's selection set drawn the same way (--exclude-near-selection).
 */
function nearExcluded(excluded: unknown, folder: string, split: SelectionSplit): boolean {
  if (!Array.isArray(excluded)) return false;
  const target = path.resolve(folder);
  return excluded.some((e) => {
    const f = typeof e?.folder === 'string' ? path.resolve(e.folder) : null;
    if (f === null) return false;
    if (e.part === 'selection') return f === target && e.seed === split.seed && e.holdout === split.holdoutFraction && !split.maxPerClass;
    return target === f || target.startsWith(f + path.sep);
  });
}
