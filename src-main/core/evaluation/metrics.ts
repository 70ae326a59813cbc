import type { EvaluationSummary, MetricWithCI } from '../../../src-shared/types.ts';
import { createRng } from '../dataset/rng.ts';

/** Area under the ROC curve (Mann–Whitney U, ties count one half). NaN when a class is missing. */
export function auc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]] === 1) { pos++; rankSumPos += avgRank; }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Confusion counts at a threshold (score ≥ threshold → positive). */
export function confusion(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold: number) {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = scores[i] >= threshold;
    if (labels[i] === 1) p ? tp++ : fn++;
    else p ? fp++ : tn++;
  }
  return { tp, fp, tn, fn };
}

/** Wilson score 95% interval for k successes out of n. */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [NaN, NaN];
  const z = 1.959964;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

/** Percentile bootstrap 95% interval of the AUC (stratified resampling, seeded). */
export function aucBootstrapCI(labels: ArrayLike<number>, scores: ArrayLike<number>, rounds = 1000, seed = 7): [number, number] {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? pos : neg).push(scores[i]);
  if (!pos.length || !neg.length) return [NaN, NaN];
  const rng = createRng(seed);
  const values: number[] = [];
  const l = [...pos.map(() => 1), ...neg.map(() => 0)];
  for (let r = 0; r < rounds; r++) {
    const s: number[] = [];
    for (let i = 0; i < pos.length; i++) s.push(pos[Math.floor(rng() * pos.length)]);
    for (let i = 0; i < neg.length; i++) s.push(neg[Math.floor(rng() * neg.length)]);
    values.push(auc(l, s));
  }
  values.sort((a, b) => a - b);
  return [values[Math.floor(0.025 * rounds)], values[Math.min(rounds - 1, Math.floor(0.975 * rounds))]];
}

function withCI(k: number, n: number): MetricWithCI {
  return { value: n ? k / n : NaN, ci95: wilson(k, n) };
}

/** AUC, accuracy, sensitivity and specificity with 95% intervals, on one labelled set. */
export function summarise(dataset: string, labels: number[], scores: number[], threshold: number): EvaluationSummary {
  const c = confusion(labels, scores, threshold);
  const n = labels.length;
  return {
    dataset,
    n,
    positives: c.tp + c.fn,
    threshold,
    auc: { value: auc(labels, scores), ci95: aucBootstrapCI(labels, scores) },
    accuracy: withCI(c.tp + c.tn, n),
    sensitivity: withCI(c.tp, c.tp + c.fn),
    specificity: withCI(c.tn, c.tn + c.fp),
  };
}

/**
 * Chooses a decision threshold on validation data: among thresholds whose sensitivity is at least
 * `minSensitivity`, the one maximising Youden's J (sensitivity + specificity − 1); on ties the
 * lowest (most sensitive) one. Candidate thresholds sit midway between adjacent distinct scores.
 */
export function chooseThreshold(labels: number[], scores: number[], minSensitivity = 0): { threshold: number; sensitivity: number; specificity: number } {
  const cands = [...new Set(scores)].sort((a, b) => a - b);
  let best = { threshold: 0.5, sensitivity: NaN, specificity: NaN, j: -Infinity };
  for (let i = 0; i < cands.length; i++) {
    const t = i === 0 ? cands[0] : (cands[i - 1] + cands[i]) / 2;
    const c = confusion(labels, scores, t);
    const sens = c.tp / Math.max(1, c.tp + c.fn);
    const spec = c.tn / Math.max(1, c.tn + c.fp);
    if (sens < minSensitivity) continue;
    const j = sens + spec - 1;
    if (j > best.j + 1e-12) best = { threshold: t, sensitivity: sens, specificity: spec, j };
  }
  return { threshold: best.threshold, sensitivity: best.sensitivity, specificity: best.specificity };
}
