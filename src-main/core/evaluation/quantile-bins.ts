/** Quantile bins of a property, shared by the held-fixed AUC (evaluation) and aspect balancing (training). */

/**
 * The bin (0 … k − 1) of each value among at most `bins` quantile bins, and each bin's upper bound (the lowest
 * value of the next bin; Infinity for the last). Equal values always share a bin, so a property with few distinct
 * values (colour channels) gets fewer bins, and every bin holds at least one value.
 */
export function quantileBins(values: readonly number[], bins: number): { bin: number[]; upTo: number[] } {
  const sorted = [...values].sort((a, b) => a - b);
  const cuts = Array.from({ length: bins - 1 }, (_, b) => sorted[Math.floor(((b + 1) * sorted.length) / bins)]);
  const edges = [...new Set(cuts)].filter((e) => e > sorted[0]);
  return { bin: values.map((v) => edges.filter((e) => v >= e).length), upTo: [...edges, Infinity] };
}
