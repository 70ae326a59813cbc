import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initEngine } from '../engine/backend.ts';
import { ARCHITECTURES, buildArchitecture } from './cnn.ts';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('every architecture builds with a sigmoid output of shape [null, 1]', () => {
  for (const name of ARCHITECTURES) {
    const m = buildArchitecture(name, { inputSize: 64, filters: [4, 8], denseUnits: 4 });
    assert.deepEqual(m.outputs[0].shape, [null, 1], name);
    m.dispose();
  }
});

test('bad options give clear errors', () => {
  assert.throws(() => buildArchitecture('seed-cnn', { inputSize: 32 }), /inputSize must be an integer in 64–256/);
  assert.throws(() => buildArchitecture('seed-cnn', { channels: 2 as 1 }), /channels must be 1 or 3/);
  assert.throws(() => buildArchitecture('seed-cnn', { dropout: 1 }), /dropout must be in \[0, 1\)/);
  assert.throws(() => buildArchitecture('seed-cnn', { inputSize: 64, filters: [8, 8, 8, 8, 8, 8] }), /shrink 64px below 2px/);
  assert.throws(() => buildArchitecture('nope' as 'seed-cnn'), /unknown architecture nope/);
});

test('the same seed gives the same initial weights', () => {
  const a = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4], seed: 9 });
  const b = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4], seed: 9 });
  assert.deepEqual(Array.from(a.getWeights()[0].dataSync()), Array.from(b.getWeights()[0].dataSync()));
  a.dispose();
  b.dispose();
});
