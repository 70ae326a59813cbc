import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f1BootstrapCI, f1Score, thresholdRates } from './rates.ts';

test('rates at a threshold: hand-computed confusion, PPV, NPV and F1; ties at the threshold are positive', () => {
  // truth 1 1 1 0 0 0 0 ; scores .9 .5 .2 .5 .4 .1 .1 ; t=.5 → TP 2 (0.9, 0.5), FN 1, FP 1 (tie 0.5), TN 3
  const { confusion: c, rates } = thresholdRates([1, 1, 1, 0, 0, 0, 0], [0.9, 0.5, 0.2, 0.5, 0.4, 0.1, 0.1], 0.5);
  assert.deepEqual(c, { tp: 2, fp: 1, tn: 3, fn: 1 });
  assert.equal(rates.accuracy.value, 5 / 7);
  assert.equal(rates.sensitivity.value, 2 / 3);
  assert.equal(rates.specificity.value, 3 / 4);
  assert.equal(rates.ppv.value, 2 / 3);
  assert.equal(rates.npv.value, 3 / 4);
  assert.equal(rates.f1.value, 4 / 6);
  assert.ok(rates.f1.ci95[0] <= rates.f1.value && rates.f1.value <= rates.f1.ci95[1]);
});

test('rates: all one class leaves the undefined rates NaN; empty input is all NaN', () => {
  const { rates } = thresholdRates([0, 0, 0], [0.1, 0.7, 0.2], 0.5);
  assert.ok(Number.isNaN(rates.sensitivity.value));
  assert.equal(rates.specificity.value, 2 / 3);
  assert.equal(rates.ppv.value, 0);
  assert.equal(rates.npv.value, 1);
  assert.equal(rates.f1.value, 0);
  const none = thresholdRates([0, 0], [0.1, 0.2], 0.5).rates;
  assert.ok(Number.isNaN(none.f1.value) && Number.isNaN(none.ppv.value));
  assert.deepEqual(f1BootstrapCI([0, 0], [0.1, 0.2], 0.5), [NaN, NaN]);
  const empty = thresholdRates([], [], 0.5).rates;
  for (const k of ['accuracy', 'sensitivity', 'specificity', 'ppv', 'npv', 'f1'] as const) assert.ok(Number.isNaN(empty[k].value), k);
  assert.ok(Number.isNaN(f1Score({ tp: 0, fp: 0, tn: 5, fn: 0 })));
});
