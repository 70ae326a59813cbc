/** Rates at a decision threshold (accuracy, sensitivity, specificity, PPV, NPV, F1) with 95% intervals. */
import type { MetricWithCI } from '../../../src-shared/types.ts';
import { createRng } from '../dataset/rng.ts';
import { confusion, wilson } from './metrics.ts';

/** Confusion counts. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** The rates a report shows at one threshold. */
export interface ThresholdRates {
  accuracy: MetricWithCI;
  sensitivity: MetricWithCI;
  specificity: MetricWithCI;
  ppv: MetricWithCI;
  npv: MetricWithCI;
  f1: MetricWithCI;
}

const prop = (k: number, n: number): MetricWithCI => ({ value: n ? k / n : NaN, ci95: wilson(k, n) });

/** F1 = 2·TP / (2·TP + FP + FN); NaN when there are neither positives nor positive calls. */
export function f1Score(c: Confusion): number {
  const d = 2 * c.tp + c.fp + c.fn;
  return d ? (2 * c.tp) / d : NaN;
}

/** Percentile bootstrap 95% interval of F1 (resampling cases, seeded); NaN bounds when F1 is undefined. */
export function f1BootstrapCI(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold: number, rounds = 1000, seed = 7): [number, number] {
  const n = labels.length;
  if (!Number.isFinite(f1Score(confusion(labels, scores, threshold)))) return [NaN, NaN];
  const rng = createRng(seed);
  const values: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rng() * n);
      const p = scores[k] >= threshold;
      if (labels[k] === 1) p ? c.tp++ : c.fn++;
      else p ? c.fp++ : c.tn++;
    }
    const f = f1Score(c);
    if (Number.isFinite(f)) values.push(f);
  }
  if (!values.length) return [NaN, NaN];
  values.sort((a, b) => a - b);
  return [values[Math.floor(0.025 * values.length)], values[Math.min(values.length - 1, Math.floor(0.975 * values.length))]];
}

/** Accuracy, sensitivity, specificity, PPV and NPV (Wilson intervals) and F1 (bootstrap interval). */
export function thresholdRates(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold: number): { confusion: Confusion; rates: ThresholdRates } {
  const c = confusion(labels, scores, threshold);
  return {
    confusion: c,
    rates: {
      accuracy: prop(c.tp + c.tn, labels.length),
      sensitivity: prop(c.tp, c.tp + c.fn),
      specificity: prop(c.tn, c.tn + c.fp),
      ppv: prop(c.tp, c.tp + c.fp),
      npv: prop(c.tn, c.tn + c.fn),
      f1: { value: f1Score(c), ci95: f1BootstrapCI(labels, scores, threshold) },
    },
  };
}
