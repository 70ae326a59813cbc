/**
 * Importance weights that take a shortcut away: within each quantile bin of a trait (here the aspect ratio,
 * which separates the classes of Kermany's train/ with AUC 0.88), both classes get the same total weight,
 * so under the weighted data the trait says nothing about the label and the classes are balanced overall.
 * Confounder balancing by reweighting, as in propensity weighting; see dataset/form-signals.ts for the audit.
 */
import type { FileForm } from '../dataset/form-signals.ts';
import { HELD_FIXED_BINS, HELD_FIXED_MIN_PAIRS, stratifiedAuc } from '../evaluation/held-fixed.ts';
import { quantileBins } from '../evaluation/quantile-bins.ts';
import type { SelectionScore } from './fit.ts';

/** The cap on a weight, as a multiple of the mean weight. */
export const BALANCE_MAX_WEIGHT = 10;

/** One bin of the trait: its upper bound and the images of each class in it. */
export interface BalanceBin {
  upTo: number;
  counts: [number, number];
}

/** The weights (mean 1 over the weighted images) and how they were made. */
export interface BalanceWeights {
  weights: number[];
  bins: BalanceBin[];
  /** Images in bins holding one class only: weight 0, since nothing balances them. */
  zeroWeight: number;
  /** Images whose weight was cut to the cap. */
  clipped: number;
}

/**
 * Weights for `values` (the trait per image) and 0/1 `labels`: `bins` quantile bins; in a bin with n images, of
 * which n_c in class c, each image of class c gets n / (2 n_c); a one-class bin gives 0. Weights are scaled to
 * mean 1 over the images with weight, then capped at `maxWeight` (the cap bounds the variance a rare image adds).
 */
export function balanceWeights(values: readonly number[], labels: readonly number[], bins = 8, maxWeight = BALANCE_MAX_WEIGHT): BalanceWeights {
  if (values.length !== labels.length) throw new Error('balance: values and labels differ in length');
  if (!(bins >= 1 && Number.isInteger(bins))) throw new Error(`balance: bins must be a positive integer (got ${bins})`);
  const n = values.length;
  const { bin: which, upTo } = quantileBins(values, bins);
  const counts = upTo.map((): [number, number] => [0, 0]);
  which.forEach((b, i) => counts[b][labels[i] === 1 ? 1 : 0]++);
  let weights = which.map((b, i) => {
    const [c0, c1] = counts[b];
    if (c0 === 0 || c1 === 0) return 0;
    return (c0 + c1) / (2 * (labels[i] === 1 ? c1 : c0));
  });
  const zeroWeight = weights.filter((w) => w === 0).length;
  if (n > 0 && zeroWeight === n) throw new Error(`balancing: every one of the ${n} images is in a bin of one class; use fewer bins or more images of both classes`);
  const mean = (ws: number[]) => ws.reduce((s, w) => s + w, 0) / Math.max(1, ws.filter((w) => w > 0).length);
  const m = mean(weights);
  weights = weights.map((w) => (m > 0 ? w / m : w));
  const clipped = weights.filter((w) => w > maxWeight).length;
  weights = weights.map((w) => Math.min(w, maxWeight));
  return {
    weights,
    bins: upTo.map((u, b) => ({ upTo: u, counts: counts[b] })),
    zeroWeight,
    clipped,
  };
}

/** Bins for `n` images: about 25 images a bin, from 1 to 8. */
export function binsFor(n: number): number {
  return Math.max(1, Math.min(8, Math.floor(n / 25)));
}

/** A per-image weight list repeated for a dataset of `views` × images laid out view by view (see feature-cache). */
export function repeatPerView(weights: readonly number[], total: number): number[] {
  return Array.from({ length: total }, (_, j) => weights[j % weights.length]);
}

/** Per-image loss weights that balance the classes within aspect-ratio bins, and a summary for the metadata. */
export interface AspectBalance {
  trait: 'aspect ratio';
  weights: number[];
  summary: Record<string, unknown>;
}

/** The aspect ratio of each path from its file header; one whose header was unreadable gets the median. */
function aspectsOf(forms: readonly FileForm[], paths: readonly string[]): number[] {
  const aspect = new Map(forms.map((f) => [f.path, f.width / f.height]));
  const known = [...aspect.values()].sort((a, b) => a - b);
  const median = known[known.length >> 1] ?? 1;
  return paths.map((p) => aspect.get(p) ?? median);
}

/** Weights for `fit` that balance the classes within aspect-ratio bins; an image whose header was unreadable gets the median aspect. */
export function aspectBalance(forms: readonly FileForm[], fit: { paths: readonly string[]; labels: readonly number[] }, log: (l: string) => void): AspectBalance {
  const b = balanceWeights(aspectsOf(forms, fit.paths), fit.labels, binsFor(fit.paths.length));
  const range = (k: 0 | 1) => { const w = b.weights.filter((_, i) => fit.labels[i] === k && b.weights[i] > 0); return w.length ? `${Math.min(...w).toFixed(2)}–${Math.max(...w).toFixed(2)}` : 'none'; };
  log(`balancing the aspect ratio: ${b.bins.length} bin${b.bins.length === 1 ? '' : 's'}; weights NORMAL ${range(0)}, PNEUMONIA ${range(1)}; ${b.zeroWeight} image(s) in one-class bins get 0, ${b.clipped} capped at ${BALANCE_MAX_WEIGHT}`);
  return { trait: 'aspect ratio', weights: b.weights, summary: { trait: 'aspect ratio', bins: b.bins.map((x) => ({ upTo: Number.isFinite(x.upTo) ? Number(x.upTo.toFixed(4)) : null, NORMAL: x.counts[0], PNEUMONIA: x.counts[1] })), zeroWeight: b.zeroWeight, clipped: b.clipped, maxWeight: BALANCE_MAX_WEIGHT } };
}

/**
 * What balanced training selects epochs by: the selection set's AUC with the aspect ratio held fixed (pairs
 * compared only within one of its quantile bins, as `cxr evaluate` reports it), so the epoch kept is the one
 * that separates the classes best beyond the files' shape. Undefined, said in the log, when the selection set
 * has too few comparable pairs; the plain AUC is used then.
 */
export function aspectHeldFixedScore(forms: readonly FileForm[], selection: { paths: readonly string[]; labels: readonly number[] }, log: (l: string) => void): SelectionScore | undefined {
  const { bin } = quantileBins(aspectsOf(forms, selection.paths), HELD_FIXED_BINS);
  const { pairs, allPairs } = stratifiedAuc(selection.labels, selection.labels, bin); // pair counts only: any scores do
  if (pairs < HELD_FIXED_MIN_PAIRS) {
    log(`epochs are chosen by the selection AUC: only ${pairs} NORMAL–PNEUMONIA pairs of the selection set share an aspect-ratio bin (${HELD_FIXED_MIN_PAIRS} needed to hold it fixed)`);
    return undefined;
  }
  log(`epochs are chosen by the selection AUC with the aspect ratio held fixed (${pairs} of ${allPairs} pairs, ${HELD_FIXED_BINS} bins)`);
  return {
    name: 'AUC with the aspect ratio held fixed',
    score: (labels, probs) => {
      if (labels.length !== bin.length) throw new Error(`selection score: ${labels.length} selection images, ${bin.length} aspect ratios`);
      return stratifiedAuc(labels, probs, bin).auc;
    },
  };
}

/**
 * Class weights `auto` gives: inverse class frequency, n / (2 n_c), so both classes weigh the same in the loss;
 * [1, 1] when per-image balancing weights already do that (`balanced`).
 */
export function autoClassWeights(labels: readonly number[], balanced: boolean): [number, number] {
  if (balanced) return [1, 1];
  const pos = labels.filter((l) => l === 1).length;
  return [labels.length / (2 * (labels.length - pos)), labels.length / (2 * pos)];
}
