import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auc } from '../evaluation/metrics.ts';
import { balanceWeights, binsFor, repeatPerView } from './balance-weights.ts';

/** Weighted AUC of a score: the weighted share of (positive, negative) pairs the positive wins (ties one half). */
function weightedAuc(labels: number[], scores: number[], w: number[]): number {
  let won = 0, all = 0;
  for (let i = 0; i < labels.length; i++) for (let j = 0; j < labels.length; j++) {
    if (labels[i] !== 1 || labels[j] !== 0) continue;
    const pair = w[i] * w[j];
    all += pair;
    won += pair * (scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0);
  }
  return won / all;
}

test('within each bin the classes weigh the same, so the trait no longer ranks them', () => {
  // 2 bins of 10: the low one 8 NORMAL / 2 PNEUMONIA, the high one 2 NORMAL / 8 PNEUMONIA.
  const values = [...Array.from({ length: 10 }, (_, i) => 1 + i / 100), ...Array.from({ length: 10 }, (_, i) => 2 + i / 100)];
  const labels = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1];
  assert.ok(auc(labels, values) > 0.8, 'the trait predicts the label before weighting');
  const b = balanceWeights(values, labels, 2);
  assert.deepEqual(b.bins.map((x) => x.counts), [[8, 2], [2, 8]]);
  // n / (2 n_c): 10/16 for the 8-image class, 10/4 for the 2-image one; their mean over 20 images is 1.
  assert.deepEqual(b.weights.slice(0, 10), [0.625, 0.625, 0.625, 0.625, 0.625, 0.625, 0.625, 0.625, 2.5, 2.5]);
  for (const bin of [[0, 10], [10, 20]]) {
    const mass = (k: number) => b.weights.slice(bin[0], bin[1]).filter((_, i) => labels[bin[0] + i] === k).reduce((s, w) => s + w, 0);
    assert.equal(mass(0), mass(1));
  }
  assert.ok(Math.abs(b.weights.reduce((s, w) => s + w, 0) / 20 - 1) < 1e-12);
  const bin = values.map((v) => (v < 2 ? 0 : 1));
  assert.ok(auc(labels, bin) > 0.75, 'the bin predicts the label before weighting');
  assert.equal(weightedAuc(labels, bin, b.weights), 0.5, 'under the weights the bin says nothing about the label');
  assert.equal(b.zeroWeight, 0);
  assert.equal(b.clipped, 0);
});

test('a bin of one class weighs nothing, and rare images are capped', () => {
  const values = [1, 1.1, 1.2, 1.3, 5, 5.1, 5.2, 5.3];
  const labels = [0, 0, 0, 1, 1, 1, 1, 1];
  const b = balanceWeights(values, labels, 2, 1.5);
  assert.deepEqual(b.weights.slice(4), [0, 0, 0, 0], 'the high bin holds PNEUMONIA only');
  assert.equal(b.zeroWeight, 4);
  // Low bin: 4 / (2·3) = 0.667 for NORMAL, 4 / 2 = 2 for the one PNEUMONIA; mean over weighted images 1 → 0.667, 2 → cap 1.5.
  assert.equal(b.weights[3], 1.5);
  assert.equal(b.clipped, 1);
  assert.ok(Math.abs(b.weights[0] - 2 / 3) < 1e-12);
});

test('ties, one bin, and bad arguments', () => {
  assert.deepEqual(balanceWeights([1, 1, 1, 1], [0, 1, 0, 1], 3).weights, [1, 1, 1, 1]);
  assert.deepEqual(balanceWeights([1, 2, 3, 4], [0, 0, 0, 1], 1).weights, [2 / 3, 2 / 3, 2 / 3, 2]);
  assert.throws(() => balanceWeights([1], [0, 1]), /differ in length/);
  assert.throws(() => balanceWeights([1], [0], 0), /bins must be a positive integer/);
  assert.throws(() => balanceWeights([1, 2], [0, 1], 2), /every one of the 2 images is in a bin of one class/);
  assert.deepEqual([binsFor(14), binsFor(60), binsFor(1334)], [1, 2, 8]);
});

test('repeatPerView follows each image into every view, laid out view by view', () => {
  assert.deepEqual(repeatPerView([0.5, 2], 6), [0.5, 2, 0.5, 2, 0.5, 2]);
});
