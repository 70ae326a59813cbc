import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brierScore, calibrationSummary, expectedCalibrationError, reliabilityBins } from './calibration.ts';

test('reliability bins: hand-computed counts, means and the closed last bin', () => {
  const labels = [0, 1, 1, 1, 0];
  const probs = [0.05, 0.15, 0.95, 1, 0.9];
  const bins = reliabilityBins(labels, probs, 10);
  assert.equal(bins.length, 10);
  assert.deepEqual([bins[0].count, bins[1].count, bins[9].count], [1, 1, 3]);
  assert.ok(Math.abs(bins[9].meanPredicted - (0.95 + 1 + 0.9) / 3) < 1e-12);
  assert.ok(Math.abs(bins[9].fractionPositive - 2 / 3) < 1e-12);
  assert.ok(Number.isNaN(bins[5].meanPredicted));
  // ECE = (1/5)|0 − .05| + (1/5)|1 − .15| + (3/5)|2/3 − .95| = .01 + .17 + .17 = .35
  assert.ok(Math.abs(expectedCalibrationError(bins) - 0.35) < 1e-12);
});

test('Brier score: hand-computed, perfect, and empty', () => {
  assert.ok(Math.abs(brierScore([1, 0], [0.8, 0.4]) - (0.04 + 0.16) / 2) < 1e-12);
  assert.equal(brierScore([1, 0], [1, 0]), 0);
  assert.ok(Number.isNaN(brierScore([], [])));
});

test('calibration summary: all one class and empty input', () => {
  const one = calibrationSummary([1, 1, 1, 1], [0.75, 0.75, 0.75, 0.75], 4);
  assert.equal(one.bins[3].count, 4);
  assert.equal(one.ece, 0.25);
  assert.equal(one.brier, 0.0625);
  const empty = calibrationSummary([], []);
  assert.ok(Number.isNaN(empty.ece) && Number.isNaN(empty.brier));
  assert.throws(() => reliabilityBins([], [], 0), /nBins/);
});
