import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildArchitecture } from '../architectures/cnn.ts';
import { initEngine } from '../engine/backend.ts';
import { TrainingCancelled } from './fit.ts';
import { accumulatedStep, activationFloatsPerSample, microBatchSize } from './micro-batch.ts';
import { trainingLoss } from './parallel/share-loss.ts';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('micro-batch size: the whole batch when it fits, smaller on wasm when activations would overflow its memory', () => {
  const small = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4, 8], denseUnits: 4, seed: 1 });
  assert.equal(microBatchSize(small, 32, 'wasm'), 32);
  const big = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [512, 512, 3], filters: 256, kernelSize: 3, padding: 'same' })] });
  assert.equal(activationFloatsPerSample(big), 512 * 512 * 256);
  assert.equal(microBatchSize(big, 32, 'wasm'), 1);
  assert.equal(microBatchSize(big, 32, 'tensorflow'), 32);
  small.dispose();
  big.dispose();
});

test('a step accumulated over micro-batches equals the full-batch step (class weights, L2), no leaked tensors', async () => {
  const make = () => buildArchitecture('gap-cnn', { inputSize: 64, filters: [4, 8], denseUnits: 4, seed: 3, dropout: 0, l2: 1e-3 });
  const [a, b] = [make(), make()];
  const n = 8;
  const buf = tf.randomUniform([n, 64, 64, 1], 0, 1, 'float32', 9).dataSync() as Float32Array;
  const labels = [0, 1, 1, 0, 1, 1, 1, 0];
  const weights = labels.map((l) => (l ? 0.7 : 1.6));
  const optA = tf.train.adam(1e-2);
  const optB = tf.train.adam(1e-2);
  const x = tf.tensor4d(buf, [n, 64, 64, 1]);
  const y = tf.tensor2d(labels, [n, 1]);
  const w = tf.tensor2d(weights, [n, 1]);
  // Warm both optimizers and models once, then count tensors on the second step.
  for (let step = 0; step < 2; step++) {
    const before = tf.memory().numTensors;
    const full = optA.minimize(() => trainingLoss(a, x, y, w), true) as tf.Scalar;
    const lossA = full.dataSync()[0];
    full.dispose();
    const lossB = await accumulatedStep(b, optB, buf, [64, 64, 1], labels, weights, 3);
    assert.ok(Math.abs(lossA - lossB) < 1e-5, `loss ${lossA} vs ${lossB}`);
    if (step === 1) assert.equal(tf.memory().numTensors, before, 'leaked tensors');
  }
  const wa = a.getWeights().map((t) => t.dataSync());
  const wb = b.getWeights().map((t) => t.dataSync());
  wa.forEach((arr, i) => arr.forEach((v, j) => assert.ok(Math.abs(v - wb[i][j]) <= 1e-4 * Math.max(1, Math.abs(v)), `weight ${i}[${j}]: ${v} vs ${wb[i][j]}`)));
  tf.dispose([x, y, w]);
  optA.dispose();
  optB.dispose();
  a.dispose();
  b.dispose();
});

test('an aborted signal stops between micro-batches without a step or a leak', async () => {
  const m = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4, 8], denseUnits: 4, seed: 3, dropout: 0 });
  const opt = tf.train.adam(1e-2);
  const before = m.getWeights().map((t) => Array.from(t.dataSync()));
  const ctrl = new AbortController();
  ctrl.abort();
  const n0 = tf.memory().numTensors;
  await assert.rejects(accumulatedStep(m, opt, new Float32Array(4 * 64 * 64), [64, 64, 1], [0, 1, 0, 1], [1, 1, 1, 1], 2, ctrl.signal), TrainingCancelled);
  assert.equal(tf.memory().numTensors, n0);
  assert.deepEqual(m.getWeights().map((t) => Array.from(t.dataSync())), before);
  opt.dispose();
  m.dispose();
});

test('fitModel: micro-batched steps and a whole last batch share one Adam state (same weights as whole batches)', async () => {
  const { fitModel } = await import('./fit.ts');
  const { syntheticDataset } = await import('./synthetic-data.ts');
  const train = syntheticDataset(10, 1); // batches of 8 and 2: the second fits in one micro-batch
  const val = syntheticDataset(4, 2);
  const run = async (microBatch?: number) => {
    const m = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4, 8], denseUnits: 4, seed: 3, dropout: 0, l2: 1e-3 });
    await fitModel(m, train, val, { height: 64, width: 64, channels: 1, epochs: 2, batchSize: 8, learningRate: 1e-2, seed: 5, classWeights: [0.8, 1.4], augment: null, patience: 9, lrPatience: 9, workers: 1, microBatch });
    const w = m.getWeights().map((t) => Array.from(t.dataSync()));
    m.dispose();
    return w;
  };
  const whole = await run();
  const micro = await run(3);
  whole.forEach((arr, i) => arr.forEach((v, j) => assert.ok(Math.abs(v - micro[i][j]) <= 1e-4 * Math.max(1, Math.abs(v)), `weight ${i}[${j}]: ${v} vs ${micro[i][j]}`)));
});
