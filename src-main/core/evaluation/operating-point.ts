/** Choosing a decision threshold on validation data by a target sensitivity, a target specificity, or Youden's J. */
import { confusion } from './metrics.ts';

/** How to choose the threshold. */
export type OperatingRule = { kind: 'target-sensitivity'; target: number } | { kind: 'target-specificity'; target: number } | { kind: 'youden' };

/** A chosen threshold and the rates it gives on the data it was chosen on. */
export interface OperatingPoint {
  threshold: number;
  sensitivity: number;
  specificity: number;
}

/** Candidate thresholds: the lowest score, midpoints between adjacent distinct scores, and one above the highest. */
function candidates(scores: ArrayLike<number>): number[] {
  const s = [...new Set(Array.from(scores))].sort((a, b) => a - b);
  const out = [s[0]];
  for (let i = 1; i < s.length; i++) out.push((s[i - 1] + s[i]) / 2);
  const top = s[s.length - 1];
  if (top < 1) out.push((top + 1) / 2);
  return out;
}

/**
 * Chooses the threshold (score ≥ threshold → positive) on labelled validation scores:
 * `target-sensitivity`: the highest threshold whose sensitivity is ≥ target (best specificity);
 * `target-specificity`: the lowest threshold whose specificity is ≥ target (best sensitivity);
 * `youden`: the maximum of sensitivity + specificity − 1, the lowest threshold on ties.
 * Throws when a class is missing or the target cannot be met.
 */
export function chooseOperatingPoint(labels: ArrayLike<number>, scores: ArrayLike<number>, rule: OperatingRule): OperatingPoint {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i] === 1 ? 1 : 0;
  if (pos === 0 || pos === labels.length) throw new Error(`choosing a threshold needs validation images of both classes (found ${pos} positive of ${labels.length})`);
  if (rule.kind !== 'youden' && !(rule.target > 0 && rule.target <= 1)) throw new Error(`the target must be in (0, 1] (got ${rule.target})`);
  const points = candidates(scores).map((t) => {
    const c = confusion(labels, scores, t);
    return { threshold: t, sensitivity: c.tp / (c.tp + c.fn), specificity: c.tn / (c.tn + c.fp) };
  });
  let best: OperatingPoint | undefined;
  if (rule.kind === 'target-sensitivity') {
    for (const p of points) if (p.sensitivity >= rule.target - 1e-12) best = p;
  } else if (rule.kind === 'target-specificity') {
    best = points.find((p) => p.specificity >= rule.target - 1e-12);
  } else {
    for (const p of points) if (!best || p.sensitivity + p.specificity > best.sensitivity + best.specificity + 1e-12) best = p;
  }
  if (!best) throw new Error(`no threshold reaches ${rule.kind === 'target-specificity' ? 'specificity' : 'sensitivity'} ${rule.kind === 'youden' ? '' : rule.target} on this validation data`);
  return best;
}

/** A one-line description of a rule, for metadata and the model card. */
export function describeRule(rule: OperatingRule): string {
  if (rule.kind === 'youden') return "Youden's J (max sensitivity + specificity − 1)";
  return `${rule.kind === 'target-sensitivity' ? 'sensitivity' : 'specificity'} ≥ ${rule.target}`;
}
