import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
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
  assert.throws(() => buildArchitecture('seed-cnn', { inputSize: 16 }), /inputSize must be an integer in 28–256/);
  assert.throws(() => buildArchitecture('seed-cnn', { inputSize: 300 }), /inputSize must be an integer in 28–256/);
  assert.throws(() => buildArchitecture('seed-cnn', { inputSize: 28 }), /4 pooling blocks shrink 28px below 2px/);
  // Unpadded convolutions: 32 → 30 → 15 → 13 → 6 → 4 → 2 → 0 (this crashed the wasm backend with "memory access out of bounds").
  assert.throws(() => buildArchitecture('seed-cnn', { inputSize: 32 }), /seed-cnn's 4 blocks of unpadded 3×3 convolution and pooling shrink 32px to nothing; use an input of at least 46px or fewer blocks/);
  assert.throws(() => buildArchitecture('gap-cnn', { inputSize: 45 }), /shrink 45px to nothing; use an input of at least 46px/);
  assert.equal(buildArchitecture('seed-cnn', { inputSize: 46, denseUnits: 4 }).outputs[0].shape[1], 1);
  assert.equal(buildArchitecture('bn-cnn', { inputSize: 32, filters: [4, 8, 8, 8] }).outputs[0].shape[1], 1, 'padded convolutions keep 32 px to 2 px');
  const small = buildArchitecture('bn-cnn', { inputSize: 28, filters: [8, 16, 32] }); // PneumoniaMNIST's size
  assert.deepEqual(small.outputs[0].shape, [null, 1]);
  small.dispose();
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

test('sep-cnn: separable blocks, validated options, and one training step on wasm (depthwise backprop kernels)', () => {
  const m = buildArchitecture('sep-cnn', { inputSize: 64, filters: [4, 8, 8], denseUnits: 4, depthMultiplier: 2 });
  assert.deepEqual(m.layers.filter((l) => l.getClassName() === 'SeparableConv2D').map((l) => l.name), ['sepconv2', 'sepconv3']);
  const plain = buildArchitecture('bn-cnn', { inputSize: 64, filters: [4, 8, 8], denseUnits: 4 });
  assert.ok(m.countParams() < plain.countParams(), 'separable convolutions have fewer weights');
  plain.dispose();
  const before = m.getWeights().map((w) => w.dataSync().slice());
  const opt = tf.train.adam(0.01);
  const x = tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 3);
  const y = tf.tensor2d([0, 1], [2, 1]);
  opt.minimize(() => tf.losses.sigmoidCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  const changed = m.getWeights().some((w, i) => w.dataSync().some((v, k) => v !== before[i][k]));
  assert.ok(changed, 'a training step changed the weights');
  tf.dispose([x, y]);
  opt.dispose();
  m.dispose();
  assert.throws(() => buildArchitecture('sep-cnn', { depthMultiplier: 9 }), /depthMultiplier must be an integer in 1–4/);
  assert.throws(() => buildArchitecture('gap-cnn', { depthMultiplier: 2 }), /depthMultiplier applies to sep-cnn only/);
  assert.throws(() => buildArchitecture('sep-cnn', { filters: [8] }), /at least 2 blocks/);
});
