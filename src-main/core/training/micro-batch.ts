// Gradient accumulation when a whole batch does not fit the backend's memory: tfjs-backend-wasm has one
// linear memory (a few GB at most) and aborts when a training step's tape outgrows it (MobileNetV2 at
// 224×224 overflows at batch 32). The batch is split into micro-batches whose gradients, weighted by their
// share of the class weights, add up to the full-batch gradient; the optimizer then takes one step.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { TrainingCancelled } from './fit.ts';
import { leafLayers } from './leaf-layers.ts';
import { microBatchGradients, yieldAndCheck } from './parallel/share-loss.ts';

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
 * between micro-batches it yields to the event loop, and an aborted `signal` stops there (no step taken).
 */
export async function accumulatedStep(
  model: tfl.LayersModel, optimizer: tf.Optimizer, buf: Float32Array, shape: [number, number, number], labels: number[], weights: number[], micro: number,
  signal?: AbortSignal,
): Promise<number> {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { loss, grads } = await microBatchGradients(model, vars, buf, shape, labels, weights, micro, yieldAndCheck(signal, () => new TrainingCancelled('training cancelled')));
  const named: tf.NamedTensorMap = {};
  grads.forEach((g, i) => {
    if (g) named[vars[i].name] = g;
  });
  optimizer.applyGradients(named);
  tf.dispose(Object.values(named));
  return loss;
}

/**
 * Rough memory one training thread needs on wasm (bytes): the activations of a micro-batch of `micro` kept for the
 * backward pass with their gradients and scratch (as microBatchSize counts them), four copies of the weights
 * (weights, gradients, Adam's two moments) and ≈ 150 MB for the runtime itself.
 */
export function trainingThreadBytes(model: tfl.LayersModel, micro: number): number {
  const weights = model.countParams();
  return activationFloatsPerSample(model) * 4 * 3 * micro + weights * 4 * 4 + 150 * 2 ** 20;
}
