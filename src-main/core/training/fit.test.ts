import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { buildArchitecture } from '../architectures/cnn.ts';
import { syntheticDataset } from './synthetic-data.ts';
import { initEngine } from '../engine/backend.ts';
import { auc } from '../evaluation/metrics.ts';
import { weightedBce } from './parallel/share-loss.ts';
import { fitModel, predictArrays, TrainingCancelled, type ArrayDataset, type FitOptions, type FitState } from './fit.ts';

const S = 64;
const synthetic = (n: number, seed: number): ArrayDataset => syntheticDataset(n, seed);
const opts = (o: Partial<FitOptions> = {}): FitOptions => ({
  height: S, width: S, channels: 1, epochs: 4, batchSize: 8, learningRate: 3e-3, seed: 5, classWeights: [1, 1], augment: null, patience: 10, lrPatience: 3, ...o,
});

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('training on wasm learns a simple signal, restores the best epoch and leaks no tensors', async () => {
  const model = buildArchitecture('gap-cnn', { inputSize: S, filters: [8, 16], denseUnits: 8, seed: 2 });
  const train = synthetic(48, 1);
  const val = synthetic(16, 2);
  predictArrays(model, val.pixels, S, S, 1);
  const before = tf.memory().numTensors;
  const events: string[] = [];
  const { history, bestEpoch } = await fitModel(model, train, val, opts({ onProgress: (p) => events.push(p.kind) }));
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by fitModel');
  assert.equal(history.length, 4);
  assert.ok(events.includes('batch') && events.includes('epoch'));
  const best = history[bestEpoch - 1];
  assert.equal(Math.max(...history.map((h) => h.valAuc)), best.valAuc);
  const p = predictArrays(model, val.pixels, S, S, 1);
  assert.ok(Math.abs(auc(val.labels, p) - best.valAuc) < 1e-6, 'best weights were not restored');
  assert.ok(best.valAuc > 0.9, `validation AUC ${best.valAuc}`);
  model.dispose();
});

test('a selection score other than the AUC picks the epoch kept, and is recorded beside the AUC', async () => {
  const model = buildArchitecture('gap-cnn', { inputSize: S, filters: [8, 16], denseUnits: 8, seed: 2 });
  let calls = 0;
  // A score that falls every epoch: the first epoch is the best whatever the AUC does.
  const { history, bestEpoch } = await fitModel(model, synthetic(48, 1), synthetic(16, 2), opts({ epochs: 3, selectionScore: { name: 'falling', score: () => 1 - ++calls / 10 } }));
  assert.equal(bestEpoch, 1);
  assert.deepEqual(history.map((h) => h.valScore), [0.9, 0.8, 0.7]);
  assert.ok(history.every((h) => Number.isFinite(h.valAuc)));
  const p = predictArrays(model, synthetic(16, 2).pixels, S, S, 1);
  assert.ok(Math.abs(auc(synthetic(16, 2).labels, p) - history[0].valAuc) < 1e-6, 'the first epoch\'s weights were restored');
  model.dispose();
});

test('the same seed gives the same weights', async () => {
  const run = async () => {
    const m = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4, seed: 2, dropout: 0 });
    await fitModel(m, synthetic(16, 1), synthetic(8, 2), opts({ epochs: 1 }));
    const w = Array.from(m.getWeights()[0].dataSync());
    m.dispose();
    return w;
  };
  assert.deepEqual(await run(), await run());
});

test('per-sample weights reach the loss: all ones change nothing, zeros on some samples change the loss and the weights', async () => {
  const run = async (weights?: number[]) => {
    const m = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4, seed: 2, dropout: 0 });
    const train = synthetic(16, 1);
    const { history } = await fitModel(m, weights ? { ...train, weights } : train, synthetic(8, 2), opts({ epochs: 3 }));
    const w = m.getWeights().flatMap((t) => Array.from(t.dataSync()));
    m.dispose();
    return { loss: history[0].loss, w };
  };
  const plain = await run();
  assert.deepEqual(await run(new Array(16).fill(1)), plain);
  const half = await run(Array.from({ length: 16 }, (_, i) => (i < 8 ? 0 : 1)));
  assert.notEqual(half.loss, plain.loss);
  assert.notDeepEqual(half.w, plain.w);
});

test('a batch whose samples all weigh 0 is skipped, not a NaN step (one weighted sample among 16, batches of 8)', async () => {
  const m = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4, seed: 2, dropout: 0 });
  const train = synthetic(16, 1);
  const { history } = await fitModel(m, { ...train, weights: Array.from({ length: 16 }, (_, i) => (i === 3 ? 1 : 0)) }, synthetic(8, 2), opts({ epochs: 2 }));
  assert.ok(history.every((h) => Number.isFinite(h.loss) && Number.isFinite(h.valLoss)), JSON.stringify(history));
  assert.ok(m.getWeights().every((t) => Array.from(t.dataSync()).every(Number.isFinite)));
  m.dispose();
});

test('weighted BCE of a share whose samples all weigh 0 is 0 (it adds nothing to the batch), not NaN', () => {
  const loss = tf.tidy(() => weightedBce(tf.tensor2d([0.3, 0.8], [2, 1]), tf.tensor2d([1, 0], [2, 1]), tf.zeros([2, 1])).dataSync()[0]);
  assert.equal(loss, 0);
  const one = tf.tidy(() => weightedBce(tf.tensor2d([0.5], [1, 1]), tf.tensor2d([1], [1, 1]), tf.tensor2d([2], [1, 1])).dataSync()[0]);
  assert.ok(Math.abs(one - Math.log(2)) < 1e-6);
});

test('an aborted signal cancels between batches', async () => {
  const model = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4 });
  const ctrl = new AbortController();
  const p = fitModel(model, synthetic(32, 1), synthetic(8, 2), opts({ signal: ctrl.signal, onProgress: () => ctrl.abort() }));
  const before = tf.memory().numTensors;
  await assert.rejects(p, TrainingCancelled);
  assert.ok(tf.memory().numTensors <= before, 'cancel leaked tensors');
  model.dispose();
});

test('determinism: two tiny runs with augmentation, noise and class weights give the same final weights', async () => {
  const run = async () => {
    const m = buildArchitecture('sep-cnn', { inputSize: S, filters: [4, 8], denseUnits: 4, seed: 4 });
    await fitModel(m, synthetic(16, 1), synthetic(8, 2), opts({ epochs: 2, classWeights: [0.7, 1.3], augment: { rotation: 10, shift: 0.05, zoom: 0.1, shear: 5, brightness: 0.05, contrast: 0.1, noise: 0.02, horizontalFlip: false } }));
    const w = m.getWeights().map((t) => Array.from(t.dataSync()));
    m.dispose();
    return w;
  };
  const [a, b] = [await run(), await run()];
  assert.equal(a.length, b.length);
  a.forEach((wa, i) => wa.forEach((v, k) => assert.ok(Math.abs(v - b[i][k]) <= 1e-6, `weight ${i}[${k}]: ${v} vs ${b[i][k]}`)));
});

test('checkpoint and resume: a run stopped after epoch 1 continues to the same epoch count with the same random stream', async () => {
  const { writeCheckpoint, readCheckpoint } = await import('./checkpoint.ts');
  const { tempDir } = await import('../test-support.ts');
  const tmp = tempDir();
  try {
    const ck = `${tmp.dir}/m.checkpoint`;
    const fp = { seed: 5 };
    const full: FitState[] = [];
    const m1 = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4, seed: 2 });
    await fitModel(m1, synthetic(16, 1), synthetic(8, 2), opts({ epochs: 3, onEpochEnd: async (s) => { full.push(s); } }));
    m1.dispose();
    const m2 = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4, seed: 2 });
    const ctrl = new AbortController();
    await assert.rejects(fitModel(m2, synthetic(16, 1), synthetic(8, 2), opts({
      epochs: 3, signal: ctrl.signal,
      onEpochEnd: async (s) => { await writeCheckpoint(ck, m2, s, fp); ctrl.abort(); },
    })), TrainingCancelled);
    m2.dispose();
    await assert.rejects(readCheckpoint(ck, { seed: 6 }), /other settings \(seed: 5 there, 6 now\)/);
    const { model, state } = await readCheckpoint(ck, fp);
    assert.equal(state.epoch, 1);
    assert.equal(state.rngDraws, full[0].rngDraws);
    assert.deepEqual(state.best.weights?.map((w) => w.length), full[0].best.weights?.map((w) => w.length));
    const resumed: FitState[] = [];
    const { history } = await fitModel(model, synthetic(16, 1), synthetic(8, 2), opts({ epochs: 3, resume: state, onEpochEnd: async (s) => { resumed.push(s); } }));
    assert.deepEqual(history.map((h) => h.epoch), [1, 2, 3]);
    assert.deepEqual({ ...history[0], seconds: 0 }, { ...full[0].history[0], seconds: 0 });
    assert.equal(resumed.at(-1)?.rngDraws, full.at(-1)?.rngDraws, 'same shuffles and augmentations as an uninterrupted run');
    model.dispose();
  } finally {
    tmp.cleanup();
  }
});

test('dropout draws fresh masks every step (a seeded tfjs Dropout alone repeats its mask), still reproducible', async () => {
  const tfl = await import('@tensorflow/tfjs-layers');
  const build = () => {
    const m = tfl.sequential();
    m.add(tfl.layers.flatten({ inputShape: [2, 2, 1] }));
    m.add(tfl.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tfl.initializers.ones(), name: 'hidden' }));
    m.add(tfl.layers.dropout({ rate: 0.5, seed: 11 }));
    m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.zeros(), name: 'out' }));
    return m;
  };
  const ds: ArrayDataset = { pixels: Array.from({ length: 16 }, (_, i) => new Float32Array([0.1 + i / 32, 0.2, 0.3, i % 2])), labels: Array.from({ length: 16 }, (_, i) => i % 2) };
  const run = async () => {
    const m = build();
    // Batch size 1: with a repeated mask the same hidden units would be dropped at every step and their output weights never move.
    await fitModel(m, ds, ds, { ...opts(), height: 2, width: 2, channels: 1, batchSize: 1, epochs: 1 });
    const k = Array.from(m.getLayer('out').getWeights()[0].dataSync());
    m.dispose();
    return k;
  };
  const before = tf.memory().numTensors;
  const k = await run();
  assert.ok(k.every((v) => v !== 0), `some output weights never trained: ${k.join(', ')}`);
  assert.deepEqual(await run(), k, 'same seed, same weights');
  assert.equal(tf.memory().numTensors, before);
});
