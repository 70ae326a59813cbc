import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyAffine, drawAffine, type AugmentRanges } from '../augment/affine.ts';
import { createRng } from '../dataset/rng.ts';
import { auc } from '../evaluation/metrics.ts';
import { availableMemoryBytes, effectiveWorkers, workersForMemory } from './parallel/workers-option.ts';
import { dropoutLayers, reseedDropout } from './dropout-seed.ts';
import { accumulatedStep, microBatchSize, trainingThreadBytes } from './micro-batch.ts';
import { parallelTrainStep } from './parallel/train-step.ts';
import { PredictionCancelled, predictWithPool } from './parallel/predict-parallel.ts';
import { weightedBce } from './parallel/share-loss.ts';
import { ModelWorkerPool } from './parallel/worker-pool.ts';

/** A progress event of training, for the CLI's progress bar and the app's live curves. */
export type TrainProgress =
  | { kind: 'batch'; epoch: number; epochs: number; batch: number; batches: number; loss: number; imagesPerSecond: number; etaSeconds: number }
  | { kind: 'epoch'; epoch: number; epochs: number; record: EpochRecord; improved: boolean; learningRate: number };

/** What one epoch measured. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  valLoss: number;
  valAuc: number;
  /** The score epochs were chosen by, when it is not the plain AUC (FitOptions.selectionScore). */
  valScore?: number;
  learningRate: number;
  seconds: number;
}

/** What picks the best epoch on the selection set, when the plain AUC should not (e.g. the AUC with a trait held fixed). */
export interface SelectionScore {
  /** Said in logs and metadata, e.g. "AUC with the aspect ratio held fixed". */
  name: string;
  score(labels: readonly number[], probs: ArrayLike<number>): number;
}

/** In-memory training data: HWC float images and 0/1 labels. */
export interface ArrayDataset {
  pixels: Float32Array[];
  labels: number[];
  /** Per-sample loss weights, multiplied with the class weights (e.g. balance-weights.ts); default 1. */
  weights?: number[];
}

/** How to fit. */
export interface FitOptions {
  /** Scores the selection set after each epoch for early stopping and best-weights restore (default: its AUC). */
  selectionScore?: SelectionScore;
  height: number;
  width: number;
  channels: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Weight of class 0 and class 1 in the loss. */
  classWeights: [number, number];
  augment: AugmentRanges | null;
  /** Stop after this many epochs without validation improvement (best weights restored). */
  patience: number;
  /** Halve the learning rate after this many epochs without improvement. */
  lrPatience: number;
  onProgress?: (p: TrainProgress) => void;
  /** Take each batch in micro-batches of at most this many images (default: as many as the backend's memory allows). */
  microBatch?: number;
  /** A line for the user (e.g. that the batch is taken in micro-batches). */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
  /** Continue from a checkpointed state (weights already in the model). */
  resume?: FitState;
  /** Called after every epoch with the state to checkpoint (the model holds that epoch's weights). */
  onEpochEnd?: (state: FitState) => Promise<void>;
  /**
   * Cores to train on (default 1): the main thread plus `workers - 1` worker threads, each with its own
   * wasm (or cpu) engine, computing the gradient of a share of every batch (see parallel/train-step.ts).
   * Ignored (1) on the native tensorflow backends, which use every core already. Without dropout and
   * BatchNorm the result equals single-thread training up to float rounding; dropout masks and BatchNorm
   * batch statistics are per share, so with them it is equivalent in distribution, not bitwise
   * (still deterministic for a given seed and worker count).
   */
  workers?: number;
  /** Memory training threads may share (bytes; default: what the machine has free), to cap `workers`. */
  availableMemory?: number;
}

/** Everything needed to continue training exactly after an epoch. */
export interface FitState {
  /** Epochs completed. */
  epoch: number;
  history: EpochRecord[];
  /** The best epoch so far: `auc` holds its selection score (the AUC unless FitOptions.selectionScore says otherwise). */
  best: { auc: number; loss: number; epoch: number; weights: Float32Array[] | null };
  learningRate: number;
  sinceBest: number;
  sinceLr: number;
  /** Numbers drawn from the seeded generator so far (replayed on resume: same shuffles and augmentations). */
  rngDraws: number;
  /** Whether early stopping ended training. */
  stopped: boolean;
  /** Adam's state (iteration count, first and second moments per trainable weight), so a resume continues exactly. */
  optimizer?: OptimizerState;
}

/** An optimizer's weights as plain arrays (tf.Optimizer.getWeights order). */
export interface OptimizerState {
  names: string[];
  shapes: number[][];
  values: Float32Array[];
}

async function saveOptimizer(optimizer: tf.Optimizer): Promise<OptimizerState> {
  const ws = await optimizer.getWeights();
  const state = { names: ws.map((w) => w.name), shapes: ws.map((w) => w.tensor.shape), values: ws.map((w) => Float32Array.from(w.tensor.dataSync())) };
  // The first entry is a fresh scalar holding the iteration count; the others are the optimizer's own variables.
  ws[0]?.tensor.dispose();
  return state;
}

async function restoreOptimizer(optimizer: tf.Optimizer, s: OptimizerState): Promise<void> {
  const ts = s.values.map((v, i) => ({ name: s.names[i], tensor: tf.tensor(v, s.shapes[i], i === 0 ? 'int32' : 'float32') }));
  await optimizer.setWeights(ts);
  tf.dispose(ts.map((t) => t.tensor));
}

/** Thrown when training is cancelled through the AbortSignal. */
export class TrainingCancelled extends Error {}

function stack(ds: ArrayDataset, idx: number[], o: FitOptions, rnd: (() => number) | null, into?: Float32Array): { buf: Float32Array; labels: number[]; weights: number[] } {
  const size = o.height * o.width * o.channels;
  const buf = into ? into.subarray(0, idx.length * size) : new Float32Array(idx.length * size);
  const tmp = new Float32Array(size);
  idx.forEach((k, i) => {
    const src = ds.pixels[k];
    if (rnd && o.augment) buf.set(applyAffine(src, o.height, o.width, o.channels, drawAffine(o.augment, rnd), tmp), i * size);
    else buf.set(src, i * size);
  });
  const labels = idx.map((k) => ds.labels[k]);
  return { buf, labels, weights: idx.map((k, i) => o.classWeights[labels[i]] * (ds.weights?.[k] ?? 1)) };
}

/** Predicts P(positive) for in-memory images, in batches, inference mode (an aborted `signal` stops between batches). */
export function predictArrays(model: tfl.LayersModel, pixels: Float32Array[], h: number, w: number, c: number, batchSize = 32, signal?: AbortSignal): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let s = 0; s < pixels.length; s += batchSize) {
    if (signal?.aborted) throw new TrainingCancelled('training cancelled');
    const idx = Array.from({ length: Math.min(batchSize, pixels.length - s) }, (_, i) => s + i);
    const p = tf.tidy(() => {
      const size = h * w * c;
      const buf = new Float32Array(idx.length * size);
      idx.forEach((k, i) => buf.set(pixels[k], i * size));
      return (model.predict(tf.tensor4d(buf, [idx.length, h, w, c])) as tf.Tensor).dataSync();
    });
    out.set(p, s);
  }
  return out;
}

async function predictOnPool(pool: ModelWorkerPool, pixels: Float32Array[], signal?: AbortSignal): Promise<Float32Array> {
  pool.syncWeights();
  try {
    return await predictWithPool(pool, pixels, 32, signal);
  } catch (e) {
    throw e instanceof PredictionCancelled ? new TrainingCancelled('training cancelled') : e;
  }
}

/**
 * Trains `model` with weighted binary cross-entropy and Adam; evaluates `val` after each epoch,
 * halves the learning rate on plateau, stops early and restores the weights of the best epoch
 * (highest validation AUC, ties broken by lower validation loss). Returns the history, the best epoch and
 * the cores it trained on (fewer than `o.workers` when memory is short).
 */
export async function fitModel(model: tfl.LayersModel, train: ArrayDataset, val: ArrayDataset, o: FitOptions): Promise<{ history: EpochRecord[]; bestEpoch: number; workers: number }> {
  const base = createRng(o.seed);
  let draws = 0;
  const rnd = () => (draws++, base());
  const r = o.resume;
  for (let i = 0; i < (r?.rngDraws ?? 0); i++) rnd();
  let lr = r?.learningRate ?? o.learningRate;
  const optimizer = tf.train.adam(lr);
  if (r?.optimizer) await restoreOptimizer(optimizer, r.optimizer);
  const history: EpochRecord[] = r ? r.history.map((h) => ({ ...h })) : [];
  const shapes = model.getWeights().map((t) => t.shape);
  let best = { auc: r?.best.auc ?? -Infinity, loss: r?.best.loss ?? Infinity, epoch: r?.best.epoch ?? 0, weights: r?.best.weights ? r.best.weights.map((a, i) => tf.tensor(a, shapes[i])) : (null as tf.Tensor[] | null) };
  let sinceBest = r?.sinceBest ?? 0;
  let sinceLr = r?.sinceLr ?? 0;
  const n = train.labels.length;
  const dropouts = dropoutLayers(model);
  const micro = Math.min(o.microBatch ?? Infinity, microBatchSize(model, o.batchSize, tf.getBackend()));
  if (micro < o.batchSize) o.onLog?.(`batch ${o.batchSize} does not fit the ${tf.getBackend()} backend's memory in one pass: gradients are accumulated over micro-batches of ${micro}`);
  const batches = Math.ceil(n / o.batchSize);
  const started = Date.now();
  let seen = 0;
  let pool: ModelWorkerPool | null = null;
  let cores = 1;
  try {
    const wanted = effectiveWorkers(o.workers ?? 1, tf.getBackend());
    const perThread = trainingThreadBytes(model, micro);
    const free = o.availableMemory ?? availableMemoryBytes();
    cores = wanted > 1 ? workersForMemory(wanted, perThread, free) : 1;
    if (cores < wanted) {
      const gb = (b: number) => (b / 2 ** 30).toFixed(1);
      o.onLog?.(`training on ${cores} of the ${wanted} cores asked for: each training thread needs about ${gb(perThread)} GB and ${gb(free)} GB of memory is free; close other programs to use more`);
    }
    if (cores > 1) pool = await ModelWorkerPool.start(model, { threads: cores - 1, maxBatch: Math.max(o.batchSize, 32), micro });
    for (let epoch = (r?.epoch ?? 0) + 1; epoch <= o.epochs && !r?.stopped; epoch++) {
      const t0 = Date.now();
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        if (o.signal?.aborted) throw new TrainingCancelled('training cancelled');
        const idx = order.slice(b * o.batchSize, (b + 1) * o.batchSize);
        const { buf, labels, weights } = stack(train, idx, o, rnd, pool?.inputs);
        const dropoutSeed = Math.floor(rnd() * 2147483647);
        reseedDropout(dropouts, dropoutSeed);
        if (weights.every((w) => w === 0)) {
          seen += idx.length; // every sample weighs 0 (per-sample weights): nothing to learn from this batch
          continue;
        }
        if (pool) {
          lossSum += (await parallelTrainStep(pool, optimizer, labels, weights, undefined, dropoutSeed, o.signal).catch((e: unknown) => {
            throw o.signal?.aborted ? new TrainingCancelled('training cancelled') : e;
          })) * idx.length;
        } else lossSum += (await accumulatedStep(model, optimizer, buf, [o.height, o.width, o.channels], labels, weights, micro, o.signal)) * idx.length;
        seen += idx.length;
        const ips = seen / ((Date.now() - started) / 1000);
        const remaining = (o.epochs - epoch) * n + (n - (b + 1) * o.batchSize);
        o.onProgress?.({ kind: 'batch', epoch, epochs: o.epochs, batch: b + 1, batches, loss: lossSum / Math.min(n, (b + 1) * o.batchSize), imagesPerSecond: ips, etaSeconds: Math.max(0, remaining) / ips });
        await new Promise((r) => setImmediate(r));
      }
      const probs = pool ? await predictOnPool(pool, val.pixels, o.signal) : predictArrays(model, val.pixels, o.height, o.width, o.channels, 32, o.signal);
      const valLoss = tf.tidy(() => weightedBce(tf.tensor2d(probs, [probs.length, 1]), tf.tensor2d(val.labels, [val.labels.length, 1]), tf.ones([val.labels.length, 1])).dataSync()[0]);
      const valAuc = auc(val.labels, probs);
      const valScore = o.selectionScore ? o.selectionScore.score(val.labels, probs) : valAuc;
      const record: EpochRecord = { epoch, loss: lossSum / n, valLoss, valAuc, ...(o.selectionScore ? { valScore } : {}), learningRate: lr, seconds: (Date.now() - t0) / 1000 };
      history.push(record);
      const improved = valScore > best.auc + 1e-4 || (Math.abs(valScore - best.auc) <= 1e-4 && valLoss < best.loss);
      if (improved) {
        best.weights?.forEach((t) => t.dispose());
        best = { auc: valScore, loss: valLoss, epoch, weights: model.getWeights().map((t) => t.clone()) };
        sinceBest = 0;
        sinceLr = 0;
      } else {
        sinceBest++;
        sinceLr++;
      }
      o.onProgress?.({ kind: 'epoch', epoch, epochs: o.epochs, record, improved, learningRate: lr });
      const stopped = sinceBest >= o.patience;
      if (!stopped && sinceLr >= o.lrPatience) {
        lr /= 2;
        // Adam reads its learning rate on every step: lower it in place, keeping the moment estimates.
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        sinceLr = 0;
      }
      if (o.onEpochEnd) {
        const weights = best.weights ? best.weights.map((t) => t.dataSync() as Float32Array) : null;
        await o.onEpochEnd({ epoch, history: history.map((h) => ({ ...h })), best: { auc: best.auc, loss: best.loss, epoch: best.epoch, weights }, learningRate: lr, sinceBest, sinceLr, rngDraws: draws, stopped, optimizer: await saveOptimizer(optimizer) });
      }
      if (stopped) break;
    }
    if (best.weights) model.setWeights(best.weights);
  } finally {
    best.weights?.forEach((t) => t.dispose());
    optimizer.dispose();
    await pool?.terminate();
  }
  return { history, bestEpoch: best.epoch, workers: cores };
}
