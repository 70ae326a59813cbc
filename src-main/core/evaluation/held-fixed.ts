/**
 * Does the model beat a shortcut, or ride it? When a file property (say the aspect ratio) alone separates the
 * classes of a folder, the model's plain AUC cannot tell whether the model reads the lungs or that property.
 * Holding the property fixed answers it: the AUC counts only pairs (one positive, one negative) whose values of
 * the property fall in the same quantile bin, so within each pair the property says nothing about which is which.
 * A stratified Mann–Whitney AUC, as in covariate-adjusted ROC analysis.
 */
import type { FormSignal, FormTrait, HeldFixedAuc } from '../../../src-shared/types.ts';
import { traitValue, type FileForm } from '../dataset/form-signals.ts';
import { quantileBins } from './quantile-bins.ts';

/** Quantile bins a property is cut into when it is held fixed. */
export const HELD_FIXED_BINS = 6;

/** Fewer comparable pairs than this and no AUC is given (too few to mean anything). */
export const HELD_FIXED_MIN_PAIRS = 20;

/** The AUC over positive–negative pairs in the same stratum only, and how many such pairs there were. */
export function stratifiedAuc(labels: ArrayLike<number>, scores: ArrayLike<number>, strata: ArrayLike<number>): { auc: number; pairs: number; allPairs: number } {
  if (labels.length !== scores.length || labels.length !== strata.length) throw new Error('stratified AUC: labels, scores and strata differ in length');
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const g = groups.get(strata[i]);
    if (g) g.push(i);
    else groups.set(strata[i], [i]);
  }
  let wins = 0;
  let pairs = 0;
  for (const members of groups.values()) {
    const pos = members.filter((i) => labels[i] === 1);
    const neg = members.filter((i) => labels[i] !== 1);
    for (const i of pos) for (const j of neg) wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    pairs += pos.length * neg.length;
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  return { auc: pairs ? wins / pairs : NaN, pairs, allPairs: positives * (labels.length - positives) };
}

/**
 * For each flagged form signal, the model's AUC on this folder with that property held fixed. `forms` are the
 * files' headers (readFileForms); a case without one is left out of that check.
 */
export function heldFixedAucs(
  signals: readonly FormSignal[],
  forms: readonly FileForm[],
  cases: ReadonlyArray<{ path: string; label: number; probability: number }>,
  bins = HELD_FIXED_BINS,
): HeldFixedAuc[] {
  const byPath = new Map(forms.map((f) => [f.path, f]));
  const known = cases.filter((c) => byPath.has(c.path));
  return signals.filter((s) => s.flagged).map((s) => heldFixed(s.trait, known, known.map((c) => traitValue(s.trait, byPath.get(c.path)!)), bins));
}

function heldFixed(trait: FormTrait, cases: ReadonlyArray<{ label: number; probability: number }>, values: number[], bins: number): HeldFixedAuc {
  const strata = quantileBins(values, bins).bin;
  const r = stratifiedAuc(cases.map((c) => c.label), cases.map((c) => c.probability), strata);
  return {
    trait,
    bins: new Set(strata).size,
    auc: r.pairs >= HELD_FIXED_MIN_PAIRS ? r.auc : null,
    pairs: r.pairs,
    pairShare: r.allPairs ? r.pairs / r.allPairs : 0,
  };
}

/** One line on a held-fixed AUC, for the command line and logs. */
export function describeHeldFixed(h: HeldFixedAuc): string {
  const bins = `${h.bins} bin${h.bins === 1 ? '' : 's'}`;
  if (h.auc === null) return `AUC with the ${h.trait} held fixed: not judged, too few comparable pairs (${h.pairs}) within its ${bins}`;
  return `AUC with the ${h.trait} held fixed: ${h.auc.toFixed(3)} (pairs compared only within ${bins} of it: ${h.pairs}, ${(100 * h.pairShare).toFixed(0)} % of all pairs)`;
}
