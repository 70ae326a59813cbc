import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng, mulberry32 } from './rng.ts';

test('mulberry32 is deterministic and in [0, 1)', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, mulberry32(43)));
});

test('createRng: callable, int and shuffle are seeded', () => {
  const r = createRng(7);
  const s = createRng(7);
  assert.equal(r(), s.next());
  const ints = Array.from({ length: 200 }, () => r.int(5));
  assert.ok(ints.every((i) => Number.isInteger(i) && i >= 0 && i < 5));
  assert.equal(new Set(ints).size, 5);
  const shuffled = createRng(1).shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(shuffled, createRng(1).shuffle([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.deepEqual([...shuffled].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.throws(() => createRng(Number.NaN), /finite/);
});
