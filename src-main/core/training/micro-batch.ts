// Gradient accumulation when a whole batch does not fit the backend's memory: tfjs-backend-wasm has one
// linear memory (a few GB at most) and aborts when a training step's tape outgrows it (MobileNetV2 at
// 224×224 overflows at batch 32). The batch is split into micro-batches whose gradients, weighted by their
// share of the class weights, add up to the full-batch gradient; the optimizer then takes one step.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { TrainingCancelled } from './fit.ts';
import { leafLayers } from './leaf-layers.ts';
import { shareGradients } from './parallel/share-loss.ts';

type Shape = Array<number | null>;
const product = (s: Shape) => s.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);

/** Floats of activations one sample produces in a forward pass: every layer's output, nested models included. */
export function activationFloatsPerSample(model: tfl.LayersModel): number {
  let total = 0;
  for (const l of leafLayers(model)) {
    const shape = l.outputShape as Shape | Shape[];
    for (const s of Array.isArray(shape[0]) ? (shape as Shape[]) : [shape as Shape]) total += product(s);
  }
  return total;
}

/** Memory a training step may use on the wasm backend (its heap also holds weights, optimizer state and data). */
export const WASM_STEP_BUDGET_BYTES = 1.25 * 2 ** 30;

/**
 * The largest micro-batch (≤ batchSize) whose training step fits: on wasm, activations kept for the backward
 * pass plus their gradients and scratch (≈ 3 floats per activation) must stay within WASM_STEP_BUDGET_BYTES;
 * other backends take the whole batch.
 */
export function microBatchSize(model: tfl.LayersModel, batchSize: number, backend: string): number {
  if (backend !== 'wasm') return batchSize;
  const perSample = activationFloatsPerSample(model) * 4 * 3;
  return Math.max(1, Math.min(batchSize, Math.floor(WASM_STEP_BUDGET_BYTES / perSample)));
}

/**
 * One optimizer step on a batch (HWC floats in `buf`), in one pass when it has at most `micro` images, else in
 * micro-batches of `micro`: the loss of each
 * chunk is normalised by its class-weight sum W_k, so weighting its gradient by W_k / W gives the full-batch
 * gradient. BatchNorm layers in training mode update their moving statistics once per chunk. Returns the batch loss;
 * an aborted `signal` stops between micro-batches (no step taken).
 */
export function accumulatedStep(
  model: tfl.LayersModel, optimizer: tf.Optimizer, buf: Float32Array, shape: [number, number, number], labels: number[], weights: number[], micro: number,
  signal?: AbortSignal,
): number {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const size = shape[0] * shape[1] * shape[2];
  const W = weights.reduce((a, b) => a + b, 0);
  let acc: (tf.Tensor | null)[] = vars.map(() => null);
  let loss = 0;
  for (let s = 0; s < labels.length; s += micro) {
    if (signal?.aborted) {
      tf.dispose(acc.filter((t): t is tf.Tensor => t != null));
      throw new TrainingCancelled('training cancelled');
    }
    const e = Math.min(labels.length, s + micro);
    const f = weights.slice(s, e).reduce((a, b) => a + b, 0) / W;
    const x = tf.tensor4d(buf.subarray(s * size, e * size), [e - s, ...shape]);
    const y = tf.tensor2d(labels.slice(s, e), [e - s, 1]);
    const w = tf.tensor2d(weights.slice(s, e), [e - s, 1]);
    const r = shareGradients(model, vars, x, y, w);
    tf.dispose([x, y, w]);
    loss += r.loss * f;
    acc = acc.map((a, i) => {
      const g = r.grads[i];
      if (!g) return a;
      if (!a && f === 1) return g; // the whole batch in one pass
      const next = tf.tidy(() => (a ? tf.add(a, tf.mul(g, f)) : tf.mul(g, f)));
      tf.dispose([a, g].filter((t): t is tf.Tensor => t != null));
      return next;
    });
  }
  const named: tf.NamedTensorMap = {};
  acc.forEach((g, i) => {
    if (g) named[vars[i].name] = g;
  });
  optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
  return loss;
}
