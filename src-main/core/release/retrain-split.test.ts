import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetItem } from '../dataset/scan.ts';
import { retrainSplit } from './retrain-split.ts';

const item = (i: number, label: string): DatasetItem => ({ path: `/d/${label}/${i}.jpeg`, label, split: null, sha256: `h${i}` }) as DatasetItem;
const items = Array.from({ length: 40 }, (_, i) => item(i, i % 2 ? 'PNEUMONIA' : 'NORMAL'));

test('images the model was fitted on always go to fit; the selection set comes from the others', () => {
  const fitted = new Set(Array.from({ length: 30 }, (_, i) => `h${i}`));
  const s = retrainSplit(items, fitted, 0.5, 42);
  assert.equal(s.keptInFit, 30);
  assert.ok(s.selection.length > 0);
  for (const it of s.selection) assert.ok(!fitted.has(it.sha256!), `${it.path} was fitted on`);
  assert.equal(s.fit.length + s.selection.length, 40);
  assert.deepEqual(new Set(s.selection.map((it) => it.label)), new Set(['NORMAL', 'PNEUMONIA']));
});

test('without known training data it is a plain stratified hold-out of everything', () => {
  for (const fitted of [null, new Set<string>()]) {
    const s = retrainSplit(items, fitted, 0.25, 42);
    assert.equal(s.keptInFit, 0);
    assert.equal(s.selection.length, 10);
    assert.equal(s.fit.length, 30);
  }
});
