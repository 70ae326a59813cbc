import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { splitRange } from './protocol.ts';
import { ModelWorkerPool } from './worker-pool.ts';

/** Thrown when parallel prediction is cancelled through the AbortSignal. */
export class PredictionCancelled extends Error {}

/**
 * Model outputs (inference mode) for in-memory HWC images, batch by batch, each batch split between the main
 * thread and the pool's workers. `pool.syncWeights()` must have run since the model's weights last changed
 * (`predictParallel` does it). Returns outSize values per image, in order.
 */
export async function predictWithPool(pool: ModelWorkerPool, pixels: Float32Array[], batchSize = 32, signal?: AbortSignal): Promise<Float32Array> {
  const { model, sampleSize, outSize } = pool;
  const shape = model.inputs[0].shape.slice(1) as [number, number, number];
  const out = new Float32Array(pixels.length * outSize);
  const step = Math.min(batchSize, pool.maxBatch);
  for (let s = 0; s < pixels.length; s += step) {
    if (signal?.aborted) throw new PredictionCancelled('prediction cancelled');
    const n = Math.min(step, pixels.length - s);
    for (let i = 0; i < n; i++) pool.inputs.set(pixels[s + i], i * sampleSize);
    const shares = splitRange(n, pool.threads + 1).filter(([a, b]) => b > a);
    const pending = shares.slice(1).map(([a, b], k) => pool.predict(k, a, b));
    const [a0, b0] = shares[0];
    let own: Float32Array | Error;
    try {
      own = tf.tidy(() => (model.predict(tf.tensor4d(pool.inputs.subarray(a0 * sampleSize, b0 * sampleSize), [b0 - a0, ...shape])) as tf.Tensor).dataSync() as Float32Array);
    } catch (e) {
      own = e as Error;
    }
    await Promise.all(pending);
    if (own instanceof Error) throw own;
    out.set(own, s * outSize);
    out.set(pool.outputs.subarray(b0 * outSize, n * outSize), (s + b0) * outSize);
  }
  return out;
}

/**
 * Like `predictArrays` of fit.ts but split across `threads` worker threads plus the main thread (a pool is
 * started and terminated around the call; keep a `ModelWorkerPool` and use `predictWithPool` to amortise
 * its start-up). The backend must be wasm or cpu. Outputs equal single-thread ones up to float rounding.
 */
export async function predictParallel(model: tfl.LayersModel, pixels: Float32Array[], threads: number, batchSize = 32, signal?: AbortSignal): Promise<Float32Array> {
  const pool = await ModelWorkerPool.start(model, { threads, maxBatch: batchSize });
  try {
    pool.syncWeights();
    return await predictWithPool(pool, pixels, batchSize, signal);
  } finally {
    await pool.terminate();
  }
}
