import * as tf from '@tensorflow/tfjs-core';
import { splitRange, weightView } from './protocol.ts';
import { microBatchGradients, variablesAt, yieldAndCheck } from './share-loss.ts';
import type { ModelWorkerPool } from './worker-pool.ts';

/** Where the time of one parallel step went (ms), filled in when passed to `parallelTrainStep`. */
export interface StepTiming {
  /** The main thread's share (forward + backward). */
  main: number;
  /** Each worker's share, as the worker measured it. */
  workers: number[];
  /** Waiting for the workers after the main share. */
  wait: number;
  /** The whole step (sync, shares, combination, Adam). */
  total: number;
}

/**
 * One data-parallel training step of `pool.model` on the first `labels.length` rows of `pool.inputs`
 * (the caller writes the batch there): the batch is split into contiguous shares, the main thread takes
 * the first and each worker one of the others; every share's gradient of the fit.ts loss (class-weighted
 * BCE normalised by the share's weight sum, plus regularisers) is weighted by W_k / W (its sum of class
 * weights over the batch's), which gives exactly the full-batch gradient (up to float rounding), and
 * `optimizer` applies it. BatchNorm moving statistics become the sample-weighted mean of the shares'
 * updates. Returns the batch loss. With BatchNorm, each share normalises by its own batch statistics
 * (as with several GPUs in Keras), so gradients equal those of the single-thread step only without BN;
 * dropout masks also differ by share: equivalent in distribution, not bitwise. Shares are taken in micro-batches
 * of `pool.micro`; an aborted `signal` stops every thread before its next micro-batch and rejects (no step taken).
 */
export async function parallelTrainStep(pool: ModelWorkerPool, optimizer: tf.Optimizer, labels: number[], sampleWeights: number[], timing?: StepTiming, dropoutSeed?: number, signal?: AbortSignal): Promise<number> {
  const t0 = performance.now();
  if (signal?.aborted) throw new Error('training step cancelled');
  Atomics.store(pool.cancelFlag, 0, 0);
  const onAbort = () => Atomics.store(pool.cancelFlag, 0, 1);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await step(pool, optimizer, labels, sampleWeights, t0, timing, dropoutSeed, signal);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function step(pool: ModelWorkerPool, optimizer: tf.Optimizer, labels: number[], sampleWeights: number[], t0: number, timing?: StepTiming, dropoutSeed?: number, signal?: AbortSignal): Promise<number> {
  const model = pool.model;
  const n = labels.length;
  if (n > pool.maxBatch) throw new Error(`batch of ${n} exceeds the pool's ${pool.maxBatch}`);
  const shares = splitRange(n, pool.threads + 1).filter(([s, e]) => e > s);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const W = sum(sampleWeights);
  const frac = shares.map(([s, e]) => sum(sampleWeights.slice(s, e)) / W);
  pool.syncWeights();
  const pending = shares.slice(1).map(([s, e], k) => pool.grad(k, s, e, labels.slice(s, e), sampleWeights.slice(s, e), dropoutSeed == null ? undefined : dropoutSeed + 104729 * (k + 1)));
  const vars = variablesAt(model, pool.trainable);
  const [s0, e0] = shares[0];
  let own: Awaited<ReturnType<typeof microBatchGradients>>;
  try {
    const shape = model.inputs[0].shape.slice(1) as [number, number, number];
    const share = pool.inputs.subarray(s0 * pool.sampleSize, e0 * pool.sampleSize);
    own = await microBatchGradients(model, vars, share, shape, labels.slice(s0, e0), sampleWeights.slice(s0, e0), pool.micro, yieldAndCheck(signal, () => new Error('training step cancelled')));
  } catch (e) {
    // Let the workers finish (a cancel stops them at their next micro-batch) before rethrowing so the pool stays usable.
    await Promise.allSettled(pending);
    throw e;
  }
  const owned = own.grads.filter((g): g is tf.Tensor => g != null);
  const t1 = performance.now();
  try {
    const results = await Promise.all(pending);
    const t2 = performance.now();
    const loss = own.loss * frac[0] + results.reduce((a, r, k) => a + r.loss * frac[k + 1], 0);
    const named: tf.NamedTensorMap = {};
    own.grads.forEach((g, j) => {
      if (!g) return;
      const i = pool.trainable[j];
      named[vars[j].name] = tf.tidy(() => {
        let acc = tf.mul(g, frac[0]);
        results.forEach((r, k) => {
          if (!r.hasGrad[j]) throw new Error(`model worker ${k + 1} found no gradient for ${vars[j].name}`);
          acc = tf.add(acc, tf.mul(tf.tensor(weightView(pool.slots[k].result, pool.layout, i), g.shape, 'float32'), frac[k + 1]));
        });
        return acc;
      });
    });
    owned.push(...Object.values(named));
    // BatchNorm moving statistics: m = m_main + Σ_k f_k (m_k - m_main), f = share sizes / n (unchanged where all agree).
    for (const i of pool.moving) {
      if (results.length === 0) break;
      const lv = model.weights[i];
      const next = tf.tidy(() => {
        const mine = lv.read();
        let acc: tf.Tensor = mine;
        results.forEach((_, k) => {
          const [s, e] = shares[k + 1];
          acc = tf.add(acc, tf.mul(tf.sub(tf.tensor(weightView(pool.slots[k].result, pool.layout, i), mine.shape, 'float32'), mine), (e - s) / n));
        });
        return acc === mine ? tf.clone(mine) : acc;
      });
      lv.write(next);
      next.dispose();
    }
    optimizer.applyGradients(named);
    if (timing) Object.assign(timing, { main: t1 - t0, workers: results.map((r) => r.ms), wait: t2 - t1, total: performance.now() - t0 });
    return loss;
  } finally {
    tf.dispose(owned);
  }
}
