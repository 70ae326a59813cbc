import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { calibrate, fitPlatt, fitTemperature } from './calibrate.ts';
import { auc } from './metrics.ts';
import { chooseOperatingPoint } from './operating-point.ts';
import { withOperatingPoint } from './set-operating-point.ts';

// sorted scores: .1(0) .2(0) .3(1) .4(0) .6(1) .7(0) .8(1) .9(1)
const labels = [0, 0, 1, 0, 1, 0, 1, 1];
const scores = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9];

test('target sensitivity: the highest threshold that keeps sensitivity ≥ target', () => {
  const p = chooseOperatingPoint(labels, scores, { kind: 'target-sensitivity', target: 1 });
  assert.equal(p.threshold, 0.25);
  assert.deepEqual([p.sensitivity, p.specificity], [1, 0.5]);
  const q = chooseOperatingPoint(labels, scores, { kind: 'target-sensitivity', target: 0.75 });
  assert.equal(q.threshold, 0.5);
  assert.deepEqual([q.sensitivity, q.specificity], [0.75, 0.75]);
});

test('target specificity: the lowest threshold that keeps specificity ≥ target; "all negative" is a candidate', () => {
  const p = chooseOperatingPoint(labels, scores, { kind: 'target-specificity', target: 0.9 });
  assert.equal(p.threshold, 0.75);
  assert.deepEqual([p.sensitivity, p.specificity], [0.5, 1]);
  const all = chooseOperatingPoint([0, 1], [0.9, 0.2], { kind: 'target-specificity', target: 1 });
  assert.equal(all.threshold, 0.95);
  assert.equal(all.sensitivity, 0);
});

test("Youden's J: the maximum, lowest threshold on ties; ties in scores are one candidate", () => {
  // J at .25 = .5, at .5 = .5, at .75 = .5 → lowest .25
  assert.equal(chooseOperatingPoint(labels, scores, { kind: 'youden' }).threshold, 0.25);
  const tied = chooseOperatingPoint([0, 1, 0, 1], [0.5, 0.5, 0.1, 0.9], { kind: 'youden' });
  assert.equal(tied.threshold, 0.3);
  assert.deepEqual([tied.sensitivity, tied.specificity], [1, 0.5]);
});

test('operating point refuses one-class data and bad targets', () => {
  assert.throws(() => chooseOperatingPoint([1, 1], [0.2, 0.3], { kind: 'youden' }), /both classes/);
  assert.throws(() => chooseOperatingPoint([], [], { kind: 'youden' }), /both classes/);
  assert.throws(() => chooseOperatingPoint(labels, scores, { kind: 'target-sensitivity', target: 1.5 }), /target/);
});

test('Platt and temperature scaling reduce log loss on over-confident scores and keep the ranking', () => {
  const y: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < 200; i++) {
    const label = i % 2;
    const truthP = 0.3 + 0.4 * label + ((i * 7919) % 100) / 1000 - 0.05;
    y.push(((i * 104729) % 1000) / 1000 < truthP ? 1 : 0);
    p.push(label ? 0.99 - ((i * 31) % 10) / 100 : 0.01 + ((i * 17) % 10) / 100);
  }
  const loss = (q: number[]) => -q.reduce((s, v, i) => s + (y[i] ? Math.log(v) : Math.log(1 - v)), 0) / q.length;
  const platt = fitPlatt(y, p);
  const temp = fitTemperature(y, p);
  assert.ok(temp.temperature! > 1, `over-confident scores need T > 1 (got ${temp.temperature})`);
  const lp = p.map((v) => calibrate(platt, v));
  const lt = p.map((v) => calibrate(temp, v));
  assert.ok(loss(lp) < loss(p) && loss(lt) < loss(p), `${loss(p)} → platt ${loss(lp)}, temperature ${loss(lt)}`);
  assert.ok(Math.abs(auc(y, lp) - auc(y, p)) < 1e-9 && Math.abs(auc(y, lt) - auc(y, p)) < 1e-9);
  assert.throws(() => fitPlatt([1, 1], [0.3, 0.4]), /both classes/);
  assert.equal(calibrate({ method: 'temperature', temperature: 1 }, 0.3).toFixed(9), '0.300000000');
});

test('withOperatingPoint records rule, data, expected rates and calibration in the metadata', () => {
  const md = { id: 'm', threshold: 0.5, thresholdChosenBy: 'x' } as ModelMetadata;
  const { metadata } = withOperatingPoint(md, { rule: { kind: 'target-sensitivity', target: 1 }, dataset: '/v', labels, rawProbabilities: scores, at: 'T' });
  assert.equal(metadata.threshold, 0.25);
  assert.deepEqual(metadata.operatingPoint, { rule: 'target-sensitivity', target: 1, dataset: '/v', n: 8, positives: 4, expectedSensitivity: 1, expectedSpecificity: 0.5, calibrated: false, chosenAt: 'T' });
  assert.equal(metadata.calibration, undefined);
  const cal = withOperatingPoint(md, { rule: { kind: 'youden' }, calibrate: 'temperature', dataset: '/v', labels, rawProbabilities: scores }).metadata;
  assert.equal(cal.calibration?.method, 'temperature');
  assert.equal(cal.operatingPoint?.calibrated, true);
  assert.match(cal.thresholdChosenBy, /Youden.*temperature-calibrated/);
});
