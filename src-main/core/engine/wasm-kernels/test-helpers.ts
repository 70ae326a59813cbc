import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './index.ts';
import { mulberry32 } from '../../dataset/rng.ts';

/** Initialises cpu + wasm backends, registers our kernels and selects wasm. */
export async function setupBackends(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
}

/** Deterministic PRNG (mulberry32) producing values in [-1, 1). */
export function seededRandom(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 2 - 1;
}

export function randomArray(rand: () => number, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rand();
  return out;
}

/** Runs one kernel on the given backend from plain arrays and returns its output. */
export async function runOn(
  backend: 'cpu' | 'wasm',
  kernelName: string,
  inputs: Record<string, { values: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const ins: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ins[k] = tf.tensor(v.values, v.shape, 'float32');
  const out = tf.engine().runKernel(kernelName, ins as never, attrs as never) as tf.Tensor;
  const res = { values: out.dataSync() as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(ins)]);
  return res;
}

/** Max relative error with an absolute floor proportional to the reference scale. */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>): { maxRel: number; ok: boolean } {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const floor = Math.max(scale * 1e-3, 1e-6);
  let maxRel = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (Math.abs(expected[i]) + floor);
    if (!(err <= maxRel)) maxRel = Number.isNaN(err) ? Infinity : Math.max(maxRel, err);
  }
  return { maxRel, ok: actual.length === expected.length && maxRel <= 1e-4 };
}
