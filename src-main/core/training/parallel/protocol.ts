/**
 * Messages and shared-memory layout between the main thread and the model workers.
 * Weights, batch inputs, predictions and gradients travel through SharedArrayBuffers
 * (one copy per step into each worker's wasm heap, no structured clone of the data);
 * messages carry only ranges, labels, class weights and scalars.
 */

/** Where each weight of `model.weights` lies in a flat Float32Array. */
export interface WeightLayout {
  shapes: number[][];
  offsets: number[];
  sizes: number[];
  total: number;
}

/** The layout of weights with the given shapes, in order. */
export function layoutOf(shapes: number[][]): WeightLayout {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const offsets: number[] = [];
  let total = 0;
  for (const n of sizes) {
    offsets.push(total);
    total += n;
  }
  return { shapes, offsets, sizes, total };
}

/** A Float32Array over a new SharedArrayBuffer of `n` floats. */
export function sharedFloats(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(1, n) * 4));
}

/** The view of weight `i` in a flat buffer laid out by `layout`. */
export function weightView(buf: Float32Array, layout: WeightLayout, i: number): Float32Array {
  return buf.subarray(layout.offsets[i], layout.offsets[i] + layout.sizes[i]);
}

export interface InitMessage {
  type: 'init';
  /** `model.toJSON(null, false)` of the main thread's model. */
  topology: object;
  backend: 'wasm' | 'cpu';
  shapes: number[][];
  /** Indices into `model.weights` of the weights that get gradients. */
  trainable: number[];
  /** Indices into `model.weights` of BatchNorm moving statistics (sent back after a training share). */
  moving: number[];
  /** Current weights (all of `model.weights`), written by the main thread before each step. */
  weights: Float32Array;
  /** Batch pixels, [maxBatch, H, W, C] row-major, written by the main thread. */
  inputs: Float32Array;
  /** Predictions, [maxBatch, outSize]; each worker writes its rows. */
  outputs: Float32Array;
  /** This worker's result area: gradients of trainable weights and moving statistics, laid out like `weights`. */
  result: Float32Array;
  sampleSize: number;
  outSize: number;
  /** A training share is taken in micro-batches of at most this many images (the wasm heap's limit). */
  micro: number;
  /** Set to 1 by the main thread to stop a training share before its next micro-batch. */
  cancelFlag: Int32Array;
  /** BatchNormalization layers the main thread keeps in inference mode (see batch-norm-mode.ts). */
  batchNormsInInference: string[];
}

export interface GradMessage {
  type: 'grad';
  id: number;
  /** Weights version: the worker reloads weights when it differs from the last one it loaded. */
  version: number;
  start: number;
  end: number;
  labels: number[];
  sampleWeights: number[];
  /** Seed for this share's dropout masks (fresh each step; see dropout-seed.ts). */
  dropoutSeed?: number;
}

export interface PredictMessage {
  type: 'predict';
  id: number;
  version: number;
  start: number;
  end: number;
}

export type ToWorker = InitMessage | GradMessage | PredictMessage;

export type FromWorker =
  | { type: 'ready'; detail: string }
  | { type: 'done'; id: number; loss: number; hasGrad: boolean[]; ms: number }
  | { type: 'predicted'; id: number }
  | { type: 'error'; id: number | null; message: string; stack?: string };

/** Splits `n` items into `parts` contiguous [start, end) ranges whose sizes differ by at most one. */
export function splitRange(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let k = 0; k < parts; k++) {
    const size = Math.floor(n / parts) + (k < n % parts ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}
