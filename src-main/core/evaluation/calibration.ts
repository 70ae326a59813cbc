/** Calibration of predicted probabilities: reliability-diagram bins, expected calibration error, Brier score. */

/** One bin of a reliability diagram. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  meanPredicted: number;
  /** Fraction of positives in the bin (NaN when empty). */
  fractionPositive: number;
}

/** Calibration summary of a set of predictions. */
export interface CalibrationSummary {
  bins: ReliabilityBin[];
  /** Expected calibration error: Σ (n_b / N) · |fraction positive_b − mean predicted_b|. */
  ece: number;
  /** Brier score: mean of (p − y)². */
  brier: number;
}

/**
 * Splits [0, 1] into `nBins` equal-width bins (the last one closed, so p = 1 counts) and reports,
 * per bin, how many predictions fell in it, their mean and the observed fraction of positives.
 */
export function reliabilityBins(labels: ArrayLike<number>, probs: ArrayLike<number>, nBins = 10): ReliabilityBin[] {
  if (!Number.isInteger(nBins) || nBins < 1) throw new Error(`nBins must be a positive integer (got ${nBins})`);
  const count = new Array<number>(nBins).fill(0);
  const sumP = new Array<number>(nBins).fill(0);
  const sumY = new Array<number>(nBins).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1, Math.max(0, probs[i]));
    const b = Math.min(nBins - 1, Math.floor(p * nBins));
    count[b]++;
    sumP[b] += p;
    sumY[b] += labels[i] === 1 ? 1 : 0;
  }
  return count.map((c, b) => ({ lower: b / nBins, upper: (b + 1) / nBins, count: c, meanPredicted: c ? sumP[b] / c : NaN, fractionPositive: c ? sumY[b] / c : NaN }));
}

/** Expected calibration error over reliability bins; NaN when there are no predictions. */
export function expectedCalibrationError(bins: readonly ReliabilityBin[]): number {
  const n = bins.reduce((s, b) => s + b.count, 0);
  if (n === 0) return NaN;
  return bins.reduce((s, b) => (b.count ? s + (b.count / n) * Math.abs(b.fractionPositive - b.meanPredicted) : s), 0);
}

/** Brier score (mean squared error of the probability against the 0/1 label); NaN for empty input. */
export function brierScore(labels: ArrayLike<number>, probs: ArrayLike<number>): number {
  if (labels.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += (probs[i] - (labels[i] === 1 ? 1 : 0)) ** 2;
  return s / labels.length;
}

/** Reliability bins, ECE and Brier score together. */
export function calibrationSummary(labels: ArrayLike<number>, probs: ArrayLike<number>, nBins = 10): CalibrationSummary {
  const bins = reliabilityBins(labels, probs, nBins);
  return { bins, ece: expectedCalibrationError(bins), brier: brierScore(labels, probs) };
}
