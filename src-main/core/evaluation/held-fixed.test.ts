import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FormSignal } from '../../../src-shared/types.ts';
import type { FileForm } from '../dataset/form-signals.ts';
import { describeHeldFixed, heldFixedAucs, stratifiedAuc } from './held-fixed.ts';
import { quantileBins } from './quantile-bins.ts';

test('stratified AUC counts only positive–negative pairs in the same stratum, ties one half', () => {
  // stratum 0: p 0.9 vs n 0.5 (win), p 0.9 vs n 0.9 (tie); stratum 1: p 0.2 vs n 0.4 (loss). Cross pairs ignored.
  const r = stratifiedAuc([1, 0, 0, 1, 0], [0.9, 0.5, 0.9, 0.2, 0.4], [0, 0, 0, 1, 1]);
  assert.equal(r.pairs, 3);
  assert.equal(r.allPairs, 6);
  assert.equal(r.auc, 1.5 / 3);
  assert.ok(Number.isNaN(stratifiedAuc([1, 0], [0.9, 0.1], [0, 1]).auc), 'no comparable pair: NaN');
  assert.throws(() => stratifiedAuc([1], [0.5, 0.2], [0]), /differ in length/);
});

test('quantile bins keep equal values together, so a two-valued property gets two bins', () => {
  assert.deepEqual(quantileBins([1, 1, 1, 3, 3, 3], 6), { bin: [0, 0, 0, 1, 1, 1], upTo: [3, Infinity] });
  assert.deepEqual(quantileBins([4, 1, 2, 3], 2), { bin: [1, 0, 0, 1], upTo: [3, Infinity] });
});

const form = (path: string, width: number): FileForm => ({ path, split: 'all', label: '', bytes: 1000, width, height: 100, channels: 1 });
const signal = (flagged: boolean, trait: FormSignal['trait'] = 'aspect ratio'): FormSignal => ({ trait, auc: 0.9, separation: 0.9, higherIn: 'PNEUMONIA', medians: {}, flagged });

test('a model that reads only the aspect ratio falls to 0.5 with it held fixed; one that reads the image does not', () => {
  // 40 images: PNEUMONIA mostly wide (aspect 1.5), NORMAL mostly narrow (1.2); 8 of each class in the other's bin.
  const cases: Array<{ path: string; label: number; wide: boolean }> = [];
  for (let i = 0; i < 20; i++) cases.push({ path: `p${i}`, label: 1, wide: i >= 4 }, { path: `n${i}`, label: 0, wide: i < 4 });
  const forms = cases.map((c) => form(c.path, c.wide ? 150 : 120));
  const shortcut = cases.map((c) => ({ ...c, probability: c.wide ? 0.8 : 0.3 }));
  const reader = cases.map((c) => ({ ...c, probability: c.label ? 0.7 : 0.2 }));
  const [h] = heldFixedAucs([signal(true), signal(false, 'width')], forms, shortcut);
  assert.equal(h.trait, 'aspect ratio');
  assert.equal(h.bins, 2);
  assert.equal(h.auc, 0.5);
  assert.equal(h.pairs, 4 * 16 + 16 * 4);
  assert.equal(h.pairShare, 128 / 400);
  assert.equal(heldFixedAucs([signal(true)], forms, reader)[0].auc, 1);
  assert.match(describeHeldFixed(h), /^AUC with the aspect ratio held fixed: 0\.500 \(pairs compared only within 2 bins of it: 128, 32 % of all pairs\)$/);
});

test('too few comparable pairs gives no AUC, and cases without a header are left out', () => {
  const cases = [{ path: 'a', label: 1, probability: 0.9 }, { path: 'b', label: 0, probability: 0.1 }, { path: 'c', label: 0, probability: 0.2 }];
  const [h] = heldFixedAucs([signal(true)], [form('a', 120), form('b', 120)], cases);
  assert.equal(h.pairs, 1);
  assert.equal(h.auc, null);
  assert.match(describeHeldFixed(h), /^AUC with the aspect ratio held fixed: not judged, too few comparable pairs \(1\) within its 1 bin$/);
});
