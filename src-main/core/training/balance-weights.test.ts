import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auc } from '../evaluation/metrics.ts';
import { stratifiedAuc } from '../evaluation/held-fixed.ts';
import { quantileBins } from '../evaluation/quantile-bins.ts';
import type { FileForm } from '../dataset/form-signals.ts';
import { aspectHeldFixedScore, autoClassWeights, balanceWeights, binsFor, repeatPerView } from './balance-weights.ts';

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

test('balanced training selects epochs by the selection AUC with the aspect ratio held fixed, or says why not', () => {
  // 60 selection images: aspect rises with the label (a shortcut); the score compares only pairs in one aspect bin.
  const n = 60;
  const labels = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
  const paths = labels.map((_, i) => `/s/${i}.jpeg`);
  const forms = paths.map((p, i): FileForm => ({ path: p, split: 'val', label: labels[i] ? 'PNEUMONIA' : 'NORMAL', bytes: 1, width: 100 + i + labels[i] * 20, height: 100, channels: 1 }));
  const logs: string[] = [];
  const s = aspectHeldFixedScore(forms, { paths, labels }, (l) => logs.push(l))!;
  assert.equal(s.name, 'AUC with the aspect ratio held fixed');
  assert.match(logs[0], /^epochs are chosen by the selection AUC with the aspect ratio held fixed \(\d+ of 800 pairs, 6 bins\)$/);
  // A score that follows the aspect ratio: perfect plain AUC, less once the aspect is held fixed.
  const probs = forms.map((f) => f.width / 400);
  const held = s.score(labels, probs);
  assert.ok(held < 1 && held < auc(labels, probs), `held fixed ${held}`);
  assert.equal(held, stratifiedAuc(labels, probs, quantileBins(forms.map((f) => f.width / f.height), 6).bin).auc);
  assert.throws(() => s.score(labels.slice(1), probs.slice(1)), /59 selection images, 60 aspect ratios/);
  // Too few comparable pairs: no score, and the log says the plain AUC decides.
  const few = aspectHeldFixedScore(forms.slice(0, 6), { paths: paths.slice(0, 6), labels: labels.slice(0, 6) }, (l) => logs.push(l));
  assert.equal(few, undefined);
  assert.match(logs[1], /^epochs are chosen by the selection AUC: only \d+ NORMAL–PNEUMONIA pairs of the selection set share an aspect-ratio bin \(20 needed to hold it fixed\)$/);
});

test('auto class weights: inverse class frequency, or none beside balancing weights', () => {
  assert.deepEqual(autoClassWeights([0, 1, 1, 1], false), [2, 2 / 3]);
  assert.deepEqual(autoClassWeights([0, 1, 1, 1], true), [1, 1]);
});
