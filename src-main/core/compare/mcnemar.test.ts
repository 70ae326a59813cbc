import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binomialCdfHalf, chiSquare1Sf, discordant, mcnemar } from './mcnemar.ts';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

test('b = c gives p = 1, exact or chi-square', () => {
  assert.deepEqual(mcnemar(5, 5), { b: 5, c: 5, method: 'exact-binomial', statistic: null, pValue: 1 });
  const big = mcnemar(20, 20);
  assert.equal(big.method, 'chi-square-cc');
  assert.equal(big.statistic, 0);
  assert.equal(big.pValue, 1);
  assert.deepEqual(mcnemar(0, 0), { b: 0, c: 0, method: 'none', statistic: null, pValue: 1 });
});

test('b = 10, c = 0: exact two-sided p = 2 · 0.5¹⁰ = 0.001953125', () => {
  const r = mcnemar(10, 0);
  assert.equal(r.method, 'exact-binomial');
  close(r.pValue, 2 / 1024, 1e-12);
  close(mcnemar(0, 10).pValue, 2 / 1024, 1e-12);
});

test('exact binomial by hand: b = 3, c = 12 → 2 · (1 + 15 + 105 + 455) / 2¹⁵', () => {
  close(binomialCdfHalf(3, 15), 576 / 32768, 1e-12);
  close(mcnemar(3, 12).pValue, 1152 / 32768, 1e-12);
});

test('b + c ≥ 25 uses chi-square with continuity correction', () => {
  const r = mcnemar(30, 15);
  assert.equal(r.method, 'chi-square-cc');
  close(r.statistic!, 196 / 45, 1e-12);
  close(r.pValue, 0.036888425707, 1e-6); // scipy.stats.chi2.sf(196/45, 1)
  const s = mcnemar(100, 60);
  close(s.statistic!, 39 ** 2 / 160, 1e-12);
  close(s.pValue, 0.002047732154, 1e-6);
  close(chiSquare1Sf(3.841458820694124), 0.05, 1e-6);
  // at the boundary (b + c = 25) the approximation is used and agrees roughly with the exact test
  const edge = mcnemar(18, 7);
  assert.equal(edge.method, 'chi-square-cc');
  close(edge.pValue, 2 * binomialCdfHalf(7, 25), 0.01);
});

test('discordant counts and refusal of bad counts', () => {
  assert.deepEqual(discordant([true, true, false, false, true], [false, true, true, false, false]), { b: 2, c: 1, bothRight: 1, bothWrong: 1 });
  assert.throws(() => mcnemar(-1, 2), /whole numbers/);
  assert.throws(() => discordant([true], []), /different numbers of cases/);
});
