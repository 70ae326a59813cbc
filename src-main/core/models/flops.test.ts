import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildArchitecture } from '../architectures/cnn.ts';
import { initEngine } from '../engine/backend.ts';
import { flopsPerImage } from './flops.ts';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('counts conv and dense multiply-adds by hand', () => {
  // 64×64×1 → conv 3×3 valid 4 filters → 62×62×4, pool → 31×31×4, GAP → 4, dense 4→2, dense 2→1
  const m = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4], denseUnits: 2 });
  const expected = 2 * 62 * 62 * 9 * 1 * 4 + 2 * 4 * 2 + 2 * 2 * 1;
  assert.equal(flopsPerImage(m), expected);
  m.dispose();
});
