import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { buildArchitecture } from '../../architectures/cnn.ts';
import { createRng } from '../../dataset/rng.ts';
import { syntheticDataset } from '../synthetic-data.ts';
import { initEngine } from '../../engine/backend.ts';
import { fitModel, predictArrays, TrainingCancelled, type ArrayDataset, type FitOptions } from '../fit.ts';
import { predictParallel, predictWithPool } from './predict-parallel.ts';
import { splitRange } from './protocol.ts';
import { ModelWorkerPool } from './worker-pool.ts';
import { effectiveWorkers, parseWorkers, workersForMemory } from './workers-option.ts';
import { trainingThreadBytes } from '../micro-batch.ts';
import { keepBatchNormInInference } from '../batch-norm-mode.ts';

const S = 64;
const synthetic = (n: number, seed: number): ArrayDataset => syntheticDataset(n, seed, S, (i) => i % 3 === 0);
const opts = (o: Partial<FitOptions> = {}): FitOptions => ({
  height: S, width: S, channels: 1, epochs: 1, batchSize: 8, learningRate: 3e-3, seed: 5, classWeights: [0.7, 1.3], augment: null, patience: 10, lrPatience: 3, ...o,
});

/** Max |a - b| / (|b| + 1e-3 · max|b|) over every weight tensor (relative, with a floor per tensor). */
function maxRelDiff(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((x, t) => {
    const scale = Math.max(1e-6, ...Array.from(b[t], Math.abs)) * 1e-3;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - b[t][i]) / (Math.abs(b[t][i]) + scale));
  });
  return worst;
}

async function trainWeights(arch: 'gap-cnn' | 'bn-cnn', workers: number, extra: Partial<FitOptions> = {}, dropout = 0, events: string[] = []): Promise<Float32Array[]> {
  const m = buildArchitecture(arch, { inputSize: S, filters: [4, 8], denseUnits: 4, seed: 3, dropout, l2: 1e-3 });
  const onProgress: FitOptions['onProgress'] = (p) => events.push(p.kind === 'batch' ? `batch ${p.epoch}/${p.epochs} ${p.batch}/${p.batches}` : `epoch ${p.epoch} improved=${p.improved}`);
  await fitModel(m, synthetic(24, 1), synthetic(8, 2), opts({ workers, onProgress, ...extra }));
  const w = m.getWeights().map((t) => t.dataSync() as Float32Array);
  m.dispose();
  return w;
}

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('splitRange and the --workers value', () => {
  assert.deepEqual(splitRange(7, 3), [[0, 3], [3, 5], [5, 7]]);
  assert.deepEqual(splitRange(1, 2), [[0, 1], [1, 1]]);
  assert.equal(parseWorkers('3'), 3);
  assert.ok(parseWorkers('auto') >= 1);
  assert.throws(() => parseWorkers('0'), /positive integer or auto/);
  assert.equal(effectiveWorkers(4, 'wasm'), 4);
  assert.equal(effectiveWorkers(4, 'tensorflow'), 1);
});

test('training threads are capped by free memory, and fitModel says so and reports what it used', async () => {
  const GB = 2 ** 30;
  assert.equal(workersForMemory(4, 1.5 * GB, 16 * GB), 4);
  assert.equal(workersForMemory(4, 1.5 * GB, 4 * GB), 2); // 80% of 4 GB holds two 1.5 GB threads
  assert.equal(workersForMemory(4, 1.5 * GB, 1 * GB), 1); // never fewer than the main thread
  const m = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4 });
  const perThread = trainingThreadBytes(m, 8);
  assert.ok(perThread > 150 * 2 ** 20 && perThread < 400 * 2 ** 20, `per-thread estimate ${perThread}`);
  const logs: string[] = [];
  const r = await fitModel(m, synthetic(16, 1), synthetic(8, 2), opts({ workers: 2, availableMemory: perThread, onLog: (l) => logs.push(l) }));
  assert.equal(r.workers, 1);
  assert.match(logs.join('\n'), /training on 1 of the 2 cores asked for: each training thread needs about 0\.\d GB/);
  const r2 = await fitModel(m, synthetic(16, 1), synthetic(8, 2), opts({ workers: 2, availableMemory: 16 * GB }));
  assert.equal(r2.workers, 2);
  m.dispose();
});

test('2 workers give the same weights as 1 after 3 Adam steps (no dropout, no BatchNorm, class weights + L2)', async () => {
  const before = tf.memory().numTensors;
  const [ev1, ev2]: string[][] = [[], []];
  const one = await trainWeights('gap-cnn', 1, {}, 0, ev1);
  const two = await trainWeights('gap-cnn', 2, {}, 0, ev2);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked on the main thread');
  assert.deepEqual(ev2, ev1, 'progress events differ');
  assert.equal(ev1.length, 4);
  const d = maxRelDiff(two, one);
  assert.ok(d < 1e-4, `max relative difference ${d}`);
  // A batch that does not split evenly (8 = 3 + 3 + 2) across 3 cores gives the same too.
  const three = await trainWeights('gap-cnn', 3, { batchSize: 8 });
  assert.ok(maxRelDiff(three, one) < 1e-4, `3 workers: max relative difference ${maxRelDiff(three, one)}`);
});

test('with dropout, training on 2 workers is deterministic for a seed', async () => {
  const a = await trainWeights('gap-cnn', 2, {}, 0.3);
  const b = await trainWeights('gap-cnn', 2, {}, 0.3);
  assert.deepEqual(a, b);
});

test('bn-cnn trains on 2 workers: finite weights, moving statistics updated, no leak', async () => {
  const m = buildArchitecture('bn-cnn', { inputSize: S, filters: [4, 8], denseUnits: 4, seed: 3 });
  const movingBefore = m.weights.filter((w) => /moving_mean/.test(w.name)).map((w) => Array.from(w.read().dataSync()));
  const before = tf.memory().numTensors;
  const { history } = await fitModel(m, synthetic(24, 1), synthetic(8, 2), opts({ workers: 2, epochs: 2, augment: { rotation: 5, shift: 0.05, zoom: 0.05, shear: 0, brightness: 0.05, contrast: 0.05, noise: 0.01, horizontalFlip: false } }));
  assert.equal(tf.memory().numTensors, before, 'tensors leaked on the main thread');
  assert.equal(history.length, 2);
  assert.ok(history.every((h) => Number.isFinite(h.loss) && Number.isFinite(h.valLoss)));
  assert.ok(m.getWeights().every((t) => t.dataSync().every(Number.isFinite)));
  const movingAfter = m.weights.filter((w) => /moving_mean/.test(w.name)).map((w) => Array.from(w.read().dataSync()));
  assert.notDeepEqual(movingAfter, movingBefore, 'BatchNorm moving means did not move');
  m.dispose();
});

test('fine-tuning setup (BatchNorm kept in inference mode) with micro-batches: 2 workers give the 1-worker weights', async () => {
  const train = async (workers: number) => {
    const m = buildArchitecture('bn-cnn', { inputSize: S, filters: [4, 8], denseUnits: 4, seed: 3, dropout: 0, l2: 1e-3 });
    keepBatchNormInInference(m, m.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.name));
    const moving = () => m.weights.filter((w) => /moving_/.test(w.name)).map((w) => Array.from(w.read().dataSync()));
    const movingBefore = moving();
    await fitModel(m, synthetic(24, 1), synthetic(8, 2), opts({ workers, microBatch: 3 }));
    assert.deepEqual(moving(), movingBefore, `${workers} worker(s): BatchNorm moving statistics changed`);
    const w = m.getWeights().map((t) => t.dataSync() as Float32Array);
    m.dispose();
    return w;
  };
  const before = tf.memory().numTensors;
  const one = await train(1);
  const two = await train(2);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked on the main thread');
  const d = maxRelDiff(two, one);
  assert.ok(d < 1e-4, `max relative difference ${d}`);
});

test('a cancel during a micro-batched parallel step stops it within 1 s', async () => {
  const m = buildArchitecture('gap-cnn', { inputSize: S, filters: [4, 8], denseUnits: 4 });
  const ctrl = new AbortController();
  let abortedAt = 0;
  let armed = false;
  const before = tf.memory().numTensors;
  const onProgress: FitOptions['onProgress'] = () => {
    if (armed) return;
    armed = true;
    // Fires while the next step's micro-batches run (the main thread yields between them).
    setTimeout(() => { abortedAt = Date.now(); ctrl.abort(); }, 5);
  };
  const p = fitModel(m, synthetic(96, 1), synthetic(8, 2), opts({ workers: 2, batchSize: 32, microBatch: 1, signal: ctrl.signal, onProgress }));
  await assert.rejects(p, TrainingCancelled);
  assert.ok(Date.now() - abortedAt < 1000, `cancel took ${Date.now() - abortedAt} ms`);
  assert.ok(tf.memory().numTensors <= before, 'cancel leaked tensors');
  m.dispose();
});

test('an aborted signal cancels parallel training between batches within 1 s', async () => {
  const m = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4 });
  const ctrl = new AbortController();
  let abortedAt = 0;
  const before = tf.memory().numTensors;
  const p = fitModel(m, synthetic(32, 1), synthetic(8, 2), opts({ workers: 2, signal: ctrl.signal, onProgress: () => { abortedAt = Date.now(); ctrl.abort(); } }));
  await assert.rejects(p, TrainingCancelled);
  assert.ok(Date.now() - abortedAt < 1000, `cancel took ${Date.now() - abortedAt} ms`);
  assert.ok(tf.memory().numTensors <= before, 'cancel leaked tensors');
  m.dispose();
});

test('predictParallel gives the single-thread outputs (bn-cnn, inference mode)', async () => {
  const m = buildArchitecture('bn-cnn', { inputSize: S, filters: [4, 8], denseUnits: 4, seed: 3 });
  // Distinct values in every weight (BN gamma/beta/moving mean/variance included), so a weight-order mix-up shows.
  const rnd = createRng(9);
  const ws = m.getWeights().map((t) => tf.tensor(Float32Array.from(t.dataSync(), () => 0.5 + rnd()), t.shape));
  m.setWeights(ws);
  tf.dispose(ws);
  const px = synthetic(21, 4).pixels;
  const ref = predictArrays(m, px, S, S, 1, 8);
  const before = tf.memory().numTensors;
  const got = await predictParallel(m, px, 2, 8);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(got.length, ref.length);
  got.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-5, `image ${i}: ${v} vs ${ref[i]}`));
  m.dispose();
});

test('a worker error rejects the task and the pool stays usable; terminate rejects later tasks', async () => {
  const m = buildArchitecture('gap-cnn', { inputSize: S, filters: [4], denseUnits: 4 });
  const pool = await ModelWorkerPool.start(m, { threads: 1, maxBatch: 4 });
  try {
    pool.syncWeights();
    await assert.rejects(pool.predict(0, 2, 9), /model worker/);
    const px = synthetic(5, 1).pixels;
    const got = await predictWithPool(pool, px, 4);
    const ref = predictArrays(m, px, S, S, 1, 4);
    got.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-5));
  } finally {
    await pool.terminate();
  }
  await assert.rejects(pool.predict(0, 0, 1), /closed/);
  m.dispose();
});
