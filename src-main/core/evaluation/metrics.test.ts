import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auc, aucBootstrapCI, chooseThreshold, confusion, summarise, wilson } from './metrics.ts';

test('auc: perfect, inverted, ties and one-class cases', () => {
  assert.equal(auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  assert.equal(auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0);
  assert.equal(auc([0, 1], [0.5, 0.5]), 0.5);
  // pairs (pos,neg): (0.8 vs 0.8 tie=.5) (0.8 vs 0.3 =1) (0.4 vs 0.8 =0) (0.4 vs 0.3 =1) → 2.5/4
  assert.equal(auc([1, 1, 0, 0], [0.8, 0.4, 0.8, 0.3]), 0.625);
  assert.ok(Number.isNaN(auc([1, 1], [0.2, 0.3])));
});

test('confusion counts at a threshold (≥ is positive)', () => {
  assert.deepEqual(confusion([1, 1, 0, 0], [0.5, 0.4, 0.5, 0.1], 0.5), { tp: 1, fn: 1, fp: 1, tn: 1 });
});

test('wilson interval matches a hand-computed value and handles n = 0', () => {
  const [lo, hi] = wilson(8, 10);
  assert.ok(Math.abs(lo - 0.4902) < 1e-3 && Math.abs(hi - 0.9433) < 1e-3, `${lo} ${hi}`);
  assert.ok(Number.isNaN(wilson(0, 0)[0]));
});

test('bootstrap AUC interval is seeded and brackets the estimate', () => {
  const labels = Array.from({ length: 60 }, (_, i) => (i % 2));
  const scores = labels.map((l, i) => l * 0.3 + ((i * 37) % 11) / 11);
  const a = aucBootstrapCI(labels, scores, 300, 3);
  assert.deepEqual(a, aucBootstrapCI(labels, scores, 300, 3));
  const v = auc(labels, scores);
  assert.ok(a[0] <= v && v <= a[1]);
});

test('chooseThreshold maximises Youden J under a sensitivity floor', () => {
  const labels = [0, 0, 0, 1, 1, 1];
  const scores = [0.1, 0.2, 0.6, 0.5, 0.7, 0.9];
  const best = chooseThreshold(labels, scores);
  assert.equal(best.sensitivity + best.specificity - 1 >= 2 / 3 - 1e-9, true);
  const sens = chooseThreshold(labels, scores, 1);
  assert.equal(sens.sensitivity, 1);
  assert.ok(sens.threshold <= 0.5);
});

test('summarise reports all four metrics with intervals', () => {
  const s = summarise('x', [0, 1, 0, 1], [0.2, 0.9, 0.6, 0.7], 0.5);
  assert.equal(s.n, 4);
  assert.equal(s.positives, 2);
  assert.equal(s.accuracy.value, 0.75);
  assert.equal(s.sensitivity.value, 1);
  assert.equal(s.specificity.value, 0.5);
  assert.equal(s.auc.value, 1);
});
