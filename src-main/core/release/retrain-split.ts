// How a retrain splits old + new images into fit and selection. The model being fine-tuned has already been
// fitted on part of the old data; those images must not be in the selection set, where they would make the
// epoch choice, the calibration and the threshold optimistic. So images the model was fitted on (by content,
// from its training-data.csv) always go to fit; the selection set is drawn from the images it never fitted.
import type { DatasetItem } from '../dataset/scan.ts';
import { stratifiedSplit } from '../dataset/split.ts';

/** Fit and selection items of a retrain, and how many already-fitted images were kept out of selection. */
export interface RetrainSplit {
  fit: DatasetItem[];
  selection: DatasetItem[];
  keptInFit: number;
}

/**
 * With `fitted` (content hashes the model was fitted on): those images go to fit, and a seeded stratified
 * `holdoutFraction` of the rest goes to selection. Without it (unknown training data): a plain stratified
 * hold-out of everything.
 */
export function retrainSplit(items: readonly DatasetItem[], fitted: ReadonlySet<string> | null, holdoutFraction: number, seed: number): RetrainSplit {
  if (!fitted || fitted.size === 0) {
    const s = stratifiedSplit(items, holdoutFraction, seed);
    return { fit: s.train, selection: s.holdout, keptInFit: 0 };
  }
  const seen = items.filter((it) => it.sha256 && fitted.has(it.sha256));
  const unseen = items.filter((it) => !(it.sha256 && fitted.has(it.sha256)));
  const s = stratifiedSplit(unseen, holdoutFraction, seed);
  return { fit: [...seen, ...s.train], selection: s.holdout, keptInFit: seen.length };
}
