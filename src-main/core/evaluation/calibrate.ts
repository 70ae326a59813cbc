/** Post-hoc probability calibration fitted on validation data: Platt scaling and temperature scaling. */
import type { CalibrationParams } from '../../../src-shared/types.ts';

const EPS = 1e-7;
const logit = (p: number) => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The fitted parameters without provenance. */
export type CalibrationFit = Pick<CalibrationParams, 'method' | 'a' | 'b' | 'temperature'>;

function requireBothClasses(labels: ArrayLike<number>): void {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i] === 1 ? 1 : 0;
  if (pos === 0 || pos === labels.length) throw new Error(`calibration needs validation images of both classes (found ${pos} positive of ${labels.length})`);
}

/**
 * Platt scaling: fits p' = σ(a·logit(p) + b) by Newton's method on the log loss, with Platt's
 * smoothed targets ((N₊+1)/(N₊+2) and 1/(N₋+2)) so separable data does not diverge.
 */
export function fitPlatt(labels: ArrayLike<number>, probs: ArrayLike<number>): CalibrationFit {
  requireBothClasses(labels);
  const n = labels.length;
  let np = 0;
  for (let i = 0; i < n; i++) np += labels[i] === 1 ? 1 : 0;
  const hi = (np + 1) / (np + 2);
  const lo = 1 / (n - np + 2);
  const z = Array.from({ length: n }, (_, i) => logit(probs[i]));
  const t = Array.from({ length: n }, (_, i) => (labels[i] === 1 ? hi : lo));
  const loss = (a: number, b: number) => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const u = a * z[i] + b;
      // Cross-entropy with soft targets, in a form stable for large |u|: log(1 + e^u) − t·u.
      f += (u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u))) - t[i] * u;
    }
    return f;
  };
  let a = 1;
  let b = 0;
  for (let it = 0; it < 100; it++) {
    let ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
    for (let i = 0; i < n; i++) {
      const q = sigmoid(a * z[i] + b);
      const d = q - t[i];
      const w = q * (1 - q);
      ga += d * z[i];
      gb += d;
      haa += w * z[i] * z[i];
      hab += w * z[i];
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // Backtracking: halve the Newton step until the loss does not rise.
    const f0 = loss(a, b);
    let step = 1;
    while (step > 1e-8 && loss(a - step * da, b - step * db) > f0 + 1e-12) step /= 2;
    a -= step * da;
    b -= step * db;
    if (Math.abs(step * da) < 1e-10 && Math.abs(step * db) < 1e-10) break;
  }
  return { method: 'platt', a, b };
}

/** Negative log-likelihood of labels under p' = σ(logit(p) / T). */
function nll(z: number[], labels: ArrayLike<number>, temperature: number): number {
  let s = 0;
  for (let i = 0; i < z.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, sigmoid(z[i] / temperature)));
    s -= labels[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / z.length;
}

/** Temperature scaling: the T in [0.05, 20] minimising the log loss of σ(logit(p) / T) (golden-section search on log T). */
export function fitTemperature(labels: ArrayLike<number>, probs: ArrayLike<number>): CalibrationFit {
  requireBothClasses(labels);
  const z = Array.from({ length: labels.length }, (_, i) => logit(probs[i]));
  const g = (Math.sqrt(5) - 1) / 2;
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  let x1 = hi - g * (hi - lo);
  let x2 = lo + g * (hi - lo);
  let f1 = nll(z, labels, Math.exp(x1));
  let f2 = nll(z, labels, Math.exp(x2));
  for (let it = 0; it < 100 && hi - lo > 1e-9; it++) {
    if (f1 < f2) { hi = x2; x2 = x1; f2 = f1; x1 = hi - g * (hi - lo); f1 = nll(z, labels, Math.exp(x1)); }
    else { lo = x1; x1 = x2; f1 = f2; x2 = lo + g * (hi - lo); f2 = nll(z, labels, Math.exp(x2)); }
  }
  return { method: 'temperature', temperature: Math.exp((lo + hi) / 2) };
}

/** Applies fitted calibration to one raw probability (monotone, so AUC is unchanged). */
export function calibrate(c: CalibrationFit | undefined, p: number): number {
  if (!c) return p;
  if (c.method === 'platt') return sigmoid((c.a ?? 1) * logit(p) + (c.b ?? 0));
  return sigmoid(logit(p) / (c.temperature ?? 1));
}

/** Applies calibration to every probability, in place. */
export function calibrateAll(c: CalibrationFit | undefined, probs: Float32Array | number[]): void {
  if (!c) return;
  for (let i = 0; i < probs.length; i++) probs[i] = calibrate(c, probs[i]);
}
