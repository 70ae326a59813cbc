/**
 * McNemar's test for two classifiers scored on the same cases. Only the discordant pairs count:
 * b = cases model A gets right and model B gets wrong, c = the reverse. Under H₀ (equal error rates)
 * each discordant case is a fair coin, so b ~ Binomial(b + c, ½).
 *
 * - b + c < 25: exact two-sided binomial p-value, min(1, 2 · P(X ≤ min(b, c))).
 * - b + c ≥ 25: chi-square with Edwards' continuity correction, (|b − c| − 1)² / (b + c), 1 degree of
 *   freedom (the correction is floored at 0, so b = c gives statistic 0 and p = 1).
 * - b + c = 0: no discordant cases, p = 1.
 */

/** The exact test is used below this many discordant pairs, the chi-square approximation from it on. */
export const EXACT_BELOW = 25;

/** The outcome of McNemar's test on one pair of models. */
export interface McNemarResult {
  b: number;
  c: number;
  /** 'exact-binomial' when b + c < 25, 'chi-square-cc' otherwise, 'none' when b + c = 0. */
  method: 'exact-binomial' | 'chi-square-cc' | 'none';
  /** The chi-square statistic (chi-square-cc only), else null. */
  statistic: number | null;
  pValue: number;
}

/** P(X ≤ k) for X ~ Binomial(n, ½): terms by the ratio C(n, i+1)/C(n, i), in log space when 0.5ⁿ would underflow. */
export function binomialCdfHalf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let s = 0;
  if (n <= 1000) {
    for (let i = 0, t = 0.5 ** n; i <= k; t *= (n - i) / (i + 1), i++) s += t;
  } else {
    for (let i = 0, lt = -n * Math.LN2; i <= k; lt += Math.log(n - i) - Math.log(i + 1), i++) s += Math.exp(lt);
  }
  return Math.min(1, s);
}

/** Complementary error function (Numerical Recipes erfcc, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** Upper tail P(χ²₁ ≥ x) of the chi-square distribution with one degree of freedom. */
export function chiSquare1Sf(x: number): number {
  return x <= 0 ? 1 : erfc(Math.sqrt(x / 2));
}

/** McNemar's test from the discordant counts b and c (see the module comment for the rule used). */
export function mcnemar(b: number, c: number): McNemarResult {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) throw new Error(`McNemar: counts must be whole numbers ≥ 0 (got b=${b}, c=${c})`);
  const n = b + c;
  if (n === 0) return { b, c, method: 'none', statistic: null, pValue: 1 };
  if (n < EXACT_BELOW) return { b, c, method: 'exact-binomial', statistic: null, pValue: Math.min(1, 2 * binomialCdfHalf(Math.min(b, c), n)) };
  const statistic = Math.max(0, Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, method: 'chi-square-cc', statistic, pValue: chiSquare1Sf(statistic) };
}

/** The discordant counts of two models' correctness on the same cases (true = correct). */
export function discordant(correctA: readonly boolean[], correctB: readonly boolean[]): { b: number; c: number; bothRight: number; bothWrong: number } {
  if (correctA.length !== correctB.length) throw new Error('McNemar: the two models were scored on different numbers of cases');
  let b = 0, c = 0, bothRight = 0, bothWrong = 0;
  for (let i = 0; i < correctA.length; i++) {
    if (correctA[i] && !correctB[i]) b++;
    else if (!correctA[i] && correctB[i]) c++;
    else if (correctA[i]) bothRight++;
    else bothWrong++;
  }
  return { b, c, bothRight, bothWrong };
}
