// Fast feature extraction for a frozen base (Chollet's "feature extraction without re-running the base"):
// the frozen base + global average pooling runs once per cached view of every image (view 0 plain,
// the others augmented, seeded), outside any gradient tape; the head then trains on the cached vectors.
// The head model shares its layers (and so its weights) with the full model.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyAffine, drawAffine, type AugmentRanges } from '../augment/affine.ts';
import { createRng } from '../dataset/rng.ts';
import { TrainingCancelled, type ArrayDataset } from '../training/fit.ts';
import { PredictionCancelled, predictWithPool } from '../training/parallel/predict-parallel.ts';
import { ModelWorkerPool } from '../training/parallel/worker-pool.ts';
import { effectiveWorkers } from '../training/parallel/workers-option.ts';

/** The frozen feature extractor (input → pooled features) and the trainable head (features → P(positive)). */
export interface SplitModel {
  features: tfl.LayersModel;
  /** Input [1, 1, F] (so the image-shaped training loop can feed it), sharing the full model's head layers. */
  head: tfl.LayersModel;
  featureSize: number;
}

const GAP = 'head_gap';

/** Splits a transfer model (built by buildTransferModel) after its global average pooling layer. */
export function splitAtHead(model: tfl.LayersModel): SplitModel {
  const gap = model.getLayer(GAP);
  const gapOut = gap.output as tfl.SymbolicTensor;
  const features = tfl.model({ inputs: model.inputs, outputs: gapOut, name: `${model.name}_features` });
  const featureSize = gapOut.shape[gapOut.shape.length - 1] as number;
  const start = model.layers.indexOf(gap) + 1;
  const input = tfl.input({ shape: [1, 1, featureSize], name: 'cached_features' });
  let x = tfl.layers.flatten({ name: 'cached_features_flat' }).apply(input) as tfl.SymbolicTensor;
  for (const layer of model.layers.slice(start)) x = layer.apply(x) as tfl.SymbolicTensor;
  return { features, head: tfl.model({ inputs: input, outputs: x, name: `${model.name}_head` }), featureSize };
}

/** Options for extractFeatures. */
export interface ExtractOptions {
  height: number;
  width: number;
  channels: number;
  /** Views per image: the plain image plus views-1 augmented ones (ignored without `augment`). */
  views: number;
  augment: AugmentRanges | null;
  seed: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Cores to run the extractor on (main thread + worker threads; wasm and cpu backends only). Default 1. */
  workers?: number;
}

/**
 * Runs the frozen extractor over every view of every image; labels repeat per view. With `workers` > 1 each
 * batch is split between the main thread and worker threads (same features up to float rounding).
 */
export async function extractFeatures(features: tfl.LayersModel, ds: ArrayDataset, o: ExtractOptions): Promise<ArrayDataset> {
  return (await extractFeatureSets(features, [{ ds, views: o.views, augment: o.augment, onProgress: o.onProgress }], o))[0];
}

/** One dataset for extractFeatureSets, with its own views, augmentation and progress. */
export interface FeatureSet {
  ds: ArrayDataset;
  views: number;
  augment: AugmentRanges | null;
  onProgress?: (done: number, total: number) => void;
}

/** extractFeatures for several datasets in turn (e.g. training and selection) on one worker pool, started once. */
export async function extractFeatureSets(features: tfl.LayersModel, sets: readonly FeatureSet[], o: Omit<ExtractOptions, 'views' | 'augment' | 'onProgress'>): Promise<ArrayDataset[]> {
  const cores = effectiveWorkers(o.workers ?? 1, tf.getBackend());
  const bs = o.batchSize ?? 16 * cores;
  const pool = cores > 1 ? await ModelWorkerPool.start(features, { threads: cores - 1, maxBatch: bs }) : null;
  try {
    pool?.syncWeights();
    const out: ArrayDataset[] = [];
    for (const set of sets) out.push(await extract(features, set.ds, { ...o, views: set.views, augment: set.augment, onProgress: set.onProgress }, bs, pool));
    return out;
  } catch (e) {
    throw e instanceof PredictionCancelled ? new TrainingCancelled('training cancelled') : e;
  } finally {
    await pool?.terminate();
  }
}

async function extract(features: tfl.LayersModel, ds: ArrayDataset, o: ExtractOptions, bs: number, pool: ModelWorkerPool | null): Promise<ArrayDataset> {
  const views = o.augment ? Math.max(1, o.views) : 1;
  const rnd = createRng(o.seed);
  const size = o.height * o.width * o.channels;
  const n = ds.labels.length;
  const pixels: Float32Array[] = [];
  const labels: number[] = [];
  const tmp = new Float32Array(size);
  for (let v = 0; v < views; v++) {
    for (let s = 0; s < n; s += bs) {
      if (o.signal?.aborted) throw new TrainingCancelled('training cancelled');
      const count = Math.min(bs, n - s);
      const buf = new Float32Array(count * size);
      for (let i = 0; i < count; i++) {
        const src = ds.pixels[s + i];
        buf.set(v > 0 && o.augment ? applyAffine(src, o.height, o.width, o.channels, drawAffine(o.augment, rnd), tmp) : src, i * size);
      }
      const out = pool
        ? await predictWithPool(pool, Array.from({ length: count }, (_, i) => buf.subarray(i * size, (i + 1) * size)), bs, o.signal)
        : tf.tidy(() => (features.predict(tf.tensor4d(buf, [count, o.height, o.width, o.channels])) as tf.Tensor).dataSync() as Float32Array);
      const f = out.length / count;
      for (let i = 0; i < count; i++) {
        pixels.push(out.slice(i * f, (i + 1) * f));
        labels.push(ds.labels[s + i]);
      }
      o.onProgress?.(v * n + s + count, views * n);
      await new Promise((r) => setImmediate(r));
    }
  }
  return { pixels, labels };
}
