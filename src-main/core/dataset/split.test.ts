import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stratifiedSplit } from './split.ts';

const items = [
  ...Array.from({ length: 30 }, (_, i) => ({ id: `n${i}`, label: 'NORMAL' as string | null })),
  ...Array.from({ length: 90 }, (_, i) => ({ id: `p${i}`, label: 'PNEUMONIA' as string | null })),
];

test('stratified: each label keeps its share, nothing lost, order kept', () => {
  const { train, holdout } = stratifiedSplit(items, 0.2, 42);
  assert.equal(holdout.filter((i) => i.label === 'NORMAL').length, 6);
  assert.equal(holdout.filter((i) => i.label === 'PNEUMONIA').length, 18);
  assert.equal(train.length + holdout.length, items.length);
  assert.equal(new Set([...train, ...holdout].map((i) => i.id)).size, items.length);
  assert.deepEqual(holdout, items.filter((i) => holdout.includes(i)), 'holdout keeps input order');
});

test('deterministic per seed, different across seeds', () => {
  const a = stratifiedSplit(items, 0.25, 1).holdout.map((i) => i.id);
  assert.deepEqual(a, stratifiedSplit(items, 0.25, 1).holdout.map((i) => i.id));
  assert.notDeepEqual(a, stratifiedSplit(items, 0.25, 2).holdout.map((i) => i.id));
});

test('edge fractions, null labels, bad fraction', () => {
  assert.equal(stratifiedSplit(items, 0, 3).holdout.length, 0);
  assert.equal(stratifiedSplit(items, 1, 3).train.length, 0);
  const unlabelled = [{ label: null }, { label: null }, { label: null }, { label: null }];
  assert.equal(stratifiedSplit(unlabelled, 0.5, 3).holdout.length, 2);
  assert.throws(() => stratifiedSplit(items, 1.5, 3), /between 0 and 1/);
  assert.throws(() => stratifiedSplit(items, Number.NaN, 3), /between 0 and 1/);
});

test('byte-identical files (same sha256) stay on the same side', () => {
  const withDupes = Array.from({ length: 40 }, (_, i) => ({ label: i % 2 ? 'A' : 'B', sha256: `h${i % 20}` }));
  for (let seed = 0; seed < 20; seed++) {
    const { train, holdout } = stratifiedSplit(withDupes, 0.3, seed);
    const trainHashes = new Set(train.map((i) => i.sha256));
    assert.ok(holdout.every((i) => !trainHashes.has(i.sha256)), `seed ${seed}: a duplicate straddles the split`);
  }
});
