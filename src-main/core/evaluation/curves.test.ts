import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averagePrecision, prCurve, rocArea, rocCurve } from './curves.ts';
import { auc } from './metrics.ts';

test('ROC curve: hand-computed points, ties move diagonally, area equals the Mann–Whitney AUC', () => {
  // scores 0.9(1) 0.8(0) 0.8(1) 0.3(0): P=2, N=2
  const labels = [1, 0, 1, 0];
  const scores = [0.9, 0.8, 0.8, 0.3];
  const roc = rocCurve(labels, scores);
  assert.deepEqual(roc.map((p) => [p.threshold, p.fpr, p.tpr]), [[Infinity, 0, 0], [0.9, 0, 0.5], [0.8, 0.5, 1], [0.3, 1, 1]]);
  // area: 0 + (0.5·(0.5+1)/2) + 0.5·1 = 0.375 + 0.5 = 0.875
  assert.equal(rocArea(roc), 0.875);
  assert.equal(auc(labels, scores), 0.875);
});

test('ROC curve: all one class and empty input give no curve', () => {
  assert.deepEqual(rocCurve([1, 1], [0.2, 0.4]), []);
  assert.deepEqual(rocCurve([0, 0], [0.2, 0.4]), []);
  assert.deepEqual(rocCurve([], []), []);
  assert.ok(Number.isNaN(rocArea([])));
});

test('PR curve and average precision: hand-computed', () => {
  // descending: 0.9(1) 0.7(0) 0.6(1) 0.2(0); P = 2
  const pr = prCurve([0, 1, 1, 0], [0.7, 0.9, 0.6, 0.2]);
  assert.deepEqual(pr.map((p) => [p.recall, p.precision]), [[0, 1], [0.5, 1], [0.5, 0.5], [1, 2 / 3], [1, 0.5]]);
  // AP = 0.5·1 + 0 + 0.5·(2/3) + 0 = 0.8333…
  assert.ok(Math.abs(averagePrecision(pr) - 5 / 6) < 1e-12);
});

test('PR curve: ties form one point; no positives or empty input give no curve', () => {
  const pr = prCurve([1, 0, 1], [0.5, 0.5, 0.5]);
  assert.deepEqual(pr.map((p) => [p.recall, p.precision]), [[0, 1], [1, 2 / 3]]);
  assert.ok(Math.abs(averagePrecision(pr) - 2 / 3) < 1e-12);
  assert.deepEqual(prCurve([0, 0], [0.1, 0.2]), []);
  assert.deepEqual(prCurve([], []), []);
  assert.ok(Number.isNaN(averagePrecision([])));
  // all positives: precision 1 everywhere, AP 1
  assert.equal(averagePrecision(prCurve([1, 1], [0.3, 0.6])), 1);
});
