import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFramingCheck, framingCheck } from './framing.ts';

test('framing check: metrics both ways, label changes and mean logits per class, paired by path', () => {
  const usual = [
    { path: 'n1', label: 0, probability: 0.1 },
    { path: 'n2', label: 0, probability: 0.4 },
    { path: 'p1', label: 1, probability: 0.9 },
    { path: 'p2', label: 1, probability: 0.6 },
    { path: 'gone', label: 1, probability: 0.9 }, // failed the second time: left out
  ];
  const zoomed = [
    { path: 'p2', probability: 0.6 },
    { path: 'n1', probability: 0.5 }, // NORMAL turns PNEUMONIA at 0.5
    { path: 'n2', probability: 0.7 }, // and outranks p2
    { path: 'p1', probability: 0.9 },
  ];
  const f = framingCheck(usual, zoomed, 0.5, 1.1, ['NORMAL', 'PNEUMONIA']);
  assert.equal(f.n, 4);
  assert.deepEqual(f.auc, { usual: 1, zoomed: 0.75 }); // pairs won: p1>n1, p1>n2, p2>n1 (0.6>0.5); lost: p2<n2
  assert.deepEqual(f.sensitivity, { usual: 1, zoomed: 1 });
  assert.deepEqual(f.specificity, { usual: 1, zoomed: 0 });
  assert.equal(f.classes.NORMAL.flips, 2);
  assert.equal(f.classes.PNEUMONIA.flips, 0);
  const logit = (p: number) => Math.log(p / (1 - p));
  assert.ok(Math.abs(f.classes.NORMAL.meanLogit.usual - (logit(0.1) + logit(0.4)) / 2) < 1e-12);
  assert.ok(Math.abs(f.classes.NORMAL.meanLogit.zoomed - (0 + logit(0.7)) / 2) < 1e-12);
  const [head, classes] = describeFramingCheck(f);
  assert.equal(head, 'framing 10 % tighter (zoom 1.1): AUC 1.000 → 0.750, sensitivity 1.000 → 1.000, specificity 1.000 → 0.000 at 0.500');
  assert.match(classes, /^ {2}NORMAL: 2 of 2 change label, mean logit -1\.30 → 0\.42; PNEUMONIA: 0 of 2 change label/);
});

test('framing check: probabilities of exactly 0 or 1 and a missing class stay finite or n/a', () => {
  const f = framingCheck([{ path: 'a', label: 1, probability: 1 }], [{ path: 'a', probability: 0 }], 0.5, 1.2, ['NORMAL', 'PNEUMONIA']);
  assert.ok(Number.isFinite(f.classes.PNEUMONIA.meanLogit.usual) && Number.isFinite(f.classes.PNEUMONIA.meanLogit.zoomed));
  assert.equal(f.classes.PNEUMONIA.flips, 1);
  assert.equal(f.classes.NORMAL.n, 0);
  assert.match(describeFramingCheck(f)[0], /AUC n\/a → n\/a, sensitivity 1\.000 → 0\.000, specificity n\/a → n\/a/);
});
