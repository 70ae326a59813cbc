/** ROC and precision–recall curves from labels (1 = positive) and scores (higher = more positive). */

/** One point of a ROC curve: the rates when every score ≥ threshold is called positive. */
export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/** One point of a precision–recall curve at a threshold (score ≥ threshold → positive). */
export interface PrPoint {
  threshold: number;
  recall: number;
  precision: number;
}

interface Step {
  threshold: number;
  tp: number;
  fp: number;
}

/** Cumulative counts at each distinct score, highest first (tied scores move together). */
function steps(labels: ArrayLike<number>, scores: ArrayLike<number>): { steps: Step[]; pos: number; neg: number } {
  const n = labels.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let pos = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) pos++;
  const out: Step[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < n; ) {
    const s = scores[idx[i]];
    while (i < n && scores[idx[i]] === s) {
      if (labels[idx[i]] === 1) tp++;
      else fp++;
      i++;
    }
    out.push({ threshold: s, tp, fp });
  }
  return { steps: out, pos, neg: n - pos };
}

/**
 * The ROC curve from (0, 0) at threshold +Infinity to (1, 1) at the lowest score, one point per
 * distinct score (ties give one diagonal segment). Empty when a class is missing or the input is empty.
 */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocPoint[] {
  const { steps: st, pos, neg } = steps(labels, scores);
  if (pos === 0 || neg === 0) return [];
  return [{ threshold: Infinity, fpr: 0, tpr: 0 }, ...st.map((s) => ({ threshold: s.threshold, fpr: s.fp / neg, tpr: s.tp / pos }))];
}

/** Area under a ROC curve by the trapezoidal rule (equals the Mann–Whitney AUC, ties counting ½). */
export function rocArea(points: readonly RocPoint[]): number {
  if (points.length < 2) return NaN;
  let a = 0;
  for (let i = 1; i < points.length; i++) a += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  return a;
}

/**
 * The precision–recall curve, starting at recall 0 with precision 1 (threshold +Infinity), one point
 * per distinct score. Empty when there are no positives.
 */
export function prCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): PrPoint[] {
  const { steps: st, pos } = steps(labels, scores);
  if (pos === 0) return [];
  return [{ threshold: Infinity, recall: 0, precision: 1 }, ...st.map((s) => ({ threshold: s.threshold, recall: s.tp / pos, precision: s.tp / (s.tp + s.fp) }))];
}

/** Average precision: Σ (recallₖ − recallₖ₋₁) · precisionₖ over a PR curve (step rule, no interpolation). NaN when empty. */
export function averagePrecision(points: readonly PrPoint[]): number {
  if (points.length < 2) return NaN;
  let ap = 0;
  for (let i = 1; i < points.length; i++) ap += (points[i].recall - points[i - 1].recall) * points[i].precision;
  return ap;
}
