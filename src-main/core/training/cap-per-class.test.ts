import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capPerClass } from './training-data.ts';

// Imbalanced like train/ (about 26 % NORMAL).
const items = Array.from({ length: 400 }, (_, i) => ({ id: i, label: i % 4 === 0 ? 'NORMAL' : 'PNEUMONIA' }));
const count = (xs: typeof items, label: string) => xs.filter((x) => x.label === label).length;

test('capPerClass keeps max of each class, the minority class included, in input order and reproducibly', () => {
  const capped = capPerClass(items, 40, 42);
  assert.equal(count(capped, 'NORMAL'), 40);
  assert.equal(count(capped, 'PNEUMONIA'), 40);
  assert.deepEqual(capped.map((x) => x.id), [...capped.map((x) => x.id)].sort((a, b) => a - b));
  assert.deepEqual(capPerClass(items, 40, 42), capped);
  assert.notDeepEqual(capPerClass(items, 40, 7).map((x) => x.id), capped.map((x) => x.id));
});

test('a class with fewer than max images is kept whole', () => {
  const capped = capPerClass(items, 150, 42);
  assert.equal(count(capped, 'NORMAL'), 100);
  assert.equal(count(capped, 'PNEUMONIA'), 150);
});
