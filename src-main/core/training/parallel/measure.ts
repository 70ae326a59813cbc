/**
 * Throughput of data-parallel training and pooled inference on the wasm backend. Run:
 *   node --import tsx src-main/core/training/parallel/measure.ts [workers=1,2] [steps=4] [architecture=seed-cnn]
 * prints images/s of a training step (batch 32, 128x128x1) and of inference (batch 32) per worker count.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { pathToFileURL } from 'node:url';
import { parallelTrainStep, type StepTiming } from './train-step.ts';
import { predictWithPool } from './predict-parallel.ts';
import { accumulatedStep, microBatchSize } from '../micro-batch.ts';
import { ModelWorkerPool } from './worker-pool.ts';

/** Images per second of a measurement (after one warm-up step). */
export interface Throughput {
  workers: number;
  batch: number;
  steps: number;
  msPerStep: number;
  imagesPerSecond: number;
  /** Training with workers: the last step's split (main share, worker shares, wait, total; ms). */
  lastStep?: StepTiming;
}

function randomBatch(n: number, size: number, seed: number): { pixels: Float32Array[]; labels: number[] } {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  return { pixels: Array.from({ length: n }, () => new Float32Array(size).map(rnd)), labels: Array.from({ length: n }, (_, i) => i % 2) };
}

/**
 * Times `steps` training steps (class-weighted BCE + Adam, as fit.ts) of `model` on a random batch with
 * `workers` cores (1 = the single-thread fit.ts path; n > 1 = main thread + n-1 worker threads), in micro-batches
 * where the batch does not fit one wasm heap, as fit.ts does. The model's
 * weights change; the backend must be wasm or cpu. Worker start-up is not timed.
 */
export async function measureParallelTraining(model: tfl.LayersModel, workers: number, steps = 4, batch = 32): Promise<Throughput> {
  const shape = model.inputs[0].shape.slice(1) as [number, number, number];
  const size = shape.reduce((a, b) => a * b, 1);
  const { pixels, labels } = randomBatch(batch, size, 1);
  const sampleWeights = labels.map((l) => (l ? 1.3 : 0.7));
  const optimizer: tf.Optimizer = tf.train.adam(1e-4);
  // As fit.ts: a batch too large for one wasm heap is taken in micro-batches, on every thread.
  const micro = microBatchSize(model, batch, tf.getBackend());
  const pool = workers > 1 ? await ModelWorkerPool.start(model, { threads: workers - 1, maxBatch: batch, micro }) : null;
  try {
    const buf = pool ? pool.inputs : new Float32Array(batch * size);
    pixels.forEach((p, i) => buf.set(p, i * size));
    const timing: StepTiming = { main: 0, workers: [], wait: 0, total: 0 };
    const step = async () => (pool ? parallelTrainStep(pool, optimizer, labels, sampleWeights, timing) : accumulatedStep(model, optimizer, buf, shape, labels, sampleWeights, micro));
    await step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step();
    const ms = (performance.now() - t0) / steps;
    return { workers, batch, steps, msPerStep: ms, imagesPerSecond: (batch * 1000) / ms, ...(pool ? { lastStep: timing } : {}) };
  } finally {
    optimizer.dispose();
    await pool?.terminate();
  }
}

/** Times `steps` inference batches (inference mode) of `model` with `workers` cores (1 = main thread only). */
export async function measureParallelInference(model: tfl.LayersModel, workers: number, steps = 8, batch = 32): Promise<Throughput> {
  const shape = model.inputs[0].shape.slice(1) as [number, number, number];
  const { pixels } = randomBatch(batch, shape.reduce((a, b) => a * b, 1), 2);
  const pool = workers > 1 ? await ModelWorkerPool.start(model, { threads: workers - 1, maxBatch: batch }) : null;
  try {
    pool?.syncWeights();
    const single = () => tf.tidy(() => {
      const buf = new Float32Array(batch * pixels[0].length);
      pixels.forEach((p, i) => buf.set(p, i * p.length));
      return (model.predict(tf.tensor4d(buf, [batch, ...shape])) as tf.Tensor).dataSync();
    });
    const step = async () => (pool ? predictWithPool(pool, pixels, batch) : single());
    await step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step();
    const ms = (performance.now() - t0) / steps;
    return { workers, batch, steps, msPerStep: ms, imagesPerSecond: (batch * 1000) / ms };
  } finally {
    await pool?.terminate();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { initEngine } = await import('../../engine/backend.ts');
  const { buildArchitecture } = await import('../../architectures/cnn.ts');
  const [counts = '1,2', steps = '4', arch = 'seed-cnn'] = process.argv.slice(2);
  await initEngine({ backend: 'wasm' });
  for (const w of counts.split(',').map(Number)) {
    const model = buildArchitecture(arch as 'seed-cnn', { inputSize: 128, channels: 1, seed: 1 });
    const t = await measureParallelTraining(model, w, Number(steps));
    const i = await measureParallelInference(model, w, Number(steps) * 2);
    const split = t.lastStep ? ` (last step: main share ${t.lastStep.main.toFixed(0)} ms, worker shares ${t.lastStep.workers.map((v) => v.toFixed(0)).join('/')} ms, waited ${t.lastStep.wait.toFixed(0)} ms, total ${t.lastStep.total.toFixed(0)} ms)` : '';
    console.log(`${arch} 128x128x1 batch 32, wasm, ${w} core${w > 1 ? 's' : ''}: training ${t.msPerStep.toFixed(0)} ms/step = ${t.imagesPerSecond.toFixed(1)} img/s${split}; inference ${i.msPerStep.toFixed(0)} ms/batch = ${i.imagesPerSecond.toFixed(1)} img/s`);
    model.dispose();
  }
  console.log(`numTensors=${tf.memory().numTensors}`);
}
