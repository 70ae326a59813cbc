/**
 * The familiarity check: is this image like the ones the model was trained on? A model scores anything it
 * is given, and confidently: 258 of 260 grey pictures that are not X-rays (wallpapers, icons, diagrams,
 * screenshots) got P(PNEUMONIA) > 0.5 from the default model. So a model may carry, in its metadata, the
 * mean of one layer's output (a feature vector per image, e.g. a global-average-pool layer) over the images
 * it was fitted on, and a limit on the cosine distance from that mean; an image further away is refused
 * (UNFAMILIAR), not scored. `cxr familiarity` fits both (fit-familiarity.ts).
 *
 * The feature rides along with the model's own output: the model is wrapped so that its single output is
 * [model output | feature], which both engines (TensorFlow.js and the ONNX conversion) run unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { FamiliarityRecord, ModelMetadata, PackedVector } from '../../../src-shared/types.ts';

/** Stores a vector as 8-bit steps between its minimum and maximum (2,048 values take 2.7 kB of base64). */
export function packVector(v: ArrayLike<number>): PackedVector {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    min = Math.min(min, v[i]);
    max = Math.max(max, v[i]);
  }
  if (!v.length || !Number.isFinite(min) || !Number.isFinite(max)) throw new Error('cannot pack an empty or non-finite vector');
  const step = (max - min) / 255;
  const bytes = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) bytes[i] = step > 0 ? Math.round((v[i] - min) / step) : 0;
  return { length: v.length, min, step, base64: Buffer.from(bytes).toString('base64') };
}

/** The vector a PackedVector holds; throws when its bytes do not match its length. */
export function unpackVector(p: PackedVector): Float32Array {
  const bytes = Buffer.from(p.base64, 'base64');
  if (bytes.length !== p.length) throw new Error(`familiarity centre holds ${bytes.length} values, expected ${p.length}`);
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p.min + p.step * bytes[i];
  return out;
}

/** 1 − cos(angle) between `x` (from `offset`, `center.length` values) and `center`: 0 same direction, 1 orthogonal. */
export function cosineDistance(x: ArrayLike<number>, center: Float32Array, offset = 0): number {
  let dot = 0;
  let xx = 0;
  let cc = 0;
  for (let i = 0; i < center.length; i++) {
    const a = x[offset + i];
    dot += a * center[i];
    xx += a * a;
    cc += center[i] * center[i];
  }
  const norm = Math.sqrt(xx * cc);
  return norm > 0 ? 1 - dot / norm : 1;
}

/** How many values a model's own output has per image (1 for a sigmoid head, else one per class). */
export function outputWidth(md: Pick<ModelMetadata, 'output' | 'classNames'>): number {
  return md.output === 'softmax' ? md.classNames.length : 1;
}

/**
 * The model with `layer`'s output appended to its own: one output [model output | feature] per image.
 * Throws naming the layer when it does not exist or does not give one vector per image.
 */
export function withFeatureOutput(model: tfl.LayersModel, layer: string): tfl.LayersModel {
  let found: tfl.layers.Layer;
  try {
    found = model.getLayer(layer);
  } catch {
    throw new Error(`model has no layer "${layer}"; pick a layer that gives one vector per image (e.g. a global-average-pool layer; \`cxr explain --layers\` lists them)`);
  }
  const feature = found.output as tfl.SymbolicTensor;
  if (Array.isArray(feature) || feature.shape.length !== 2) {
    throw new Error(`layer "${layer}" gives ${Array.isArray(feature) ? 'several outputs' : `shape [${feature.shape.map((d) => d ?? 'batch').join(', ')}]`}, not one vector per image; pick a global-average-pool or dense layer`);
  }
  const own = model.outputs[0];
  const joined = tfl.layers.concatenate({ axis: -1, name: 'familiarity_concat' }).apply([own, feature]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: model.inputs, outputs: joined, name: `${model.name}_with_feature` });
}

/** The model a predictor should run: wrapped with the familiarity feature when the metadata has a check. */
export function modelForPrediction(model: tfl.LayersModel, md: ModelMetadata): tfl.LayersModel {
  return md.familiarity ? withFeatureOutput(model, md.familiarity.layer) : model;
}

/**
 * Splits a batch of raw rows (n × width, from the model modelForPrediction gave) into the model's own outputs
 * (n × outputWidth) and, when the metadata has a familiarity check, each image's distance from the centre.
 */
export function splitRows(raw: Float32Array, n: number, md: Pick<ModelMetadata, 'familiarity' | 'output' | 'classNames'>, center?: Float32Array): { outputs: Float32Array; width: number; distances?: Float32Array } {
  const f: FamiliarityRecord | undefined = md.familiarity;
  if (!f || !center) return { outputs: raw, width: raw.length / Math.max(n, 1) };
  const k = outputWidth(md);
  const width = k + center.length;
  if (raw.length !== n * width) throw new Error(`model output has ${raw.length / Math.max(n, 1)} values per image, expected ${width} (its output and the ${center.length}-value feature of "${f.layer}")`);
  const outputs = new Float32Array(n * k);
  const distances = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    outputs.set(raw.subarray(i * width, i * width + k), i * k);
    distances[i] = cosineDistance(raw, center, i * width + k);
  }
  return { outputs, width: k, distances };
}

/** Why an image at `distance` is refused by `f`, or undefined when it is familiar enough. */
export function unfamiliarDetail(f: FamiliarityRecord | undefined, distance: number | undefined, modelId: string): string | undefined {
  if (!f || distance === undefined || !(distance > f.limit)) return undefined;
  return `distance ${distance.toFixed(3)} from the images model ${modelId} was trained on, limit ${f.limit.toFixed(3)}`;
}

/**
 * A function that gives one prepared image's distance from the model's training images (undefined when the model
 * has no check), for views that run the model their own way (e.g. `cxr explain`); classification gets distances
 * from its Predictor. The wrapped model and the centre are built once, for every image it is called on.
 */
export function familiarityMeter(model: tfl.LayersModel, md: Pick<ModelMetadata, 'familiarity' | 'input' | 'output' | 'classNames'>): ((pixels: Float32Array) => number) | undefined {
  const f = md.familiarity;
  if (!f) return undefined;
  const run = withFeatureOutput(model, f.layer);
  const center = unpackVector(f.center);
  const { height, width, channels } = md.input;
  return (pixels) => {
    const row = tf.tidy(() => (run.predict(tf.tensor4d(pixels, [1, height, width, channels])) as tf.Tensor).dataSync() as Float32Array);
    return splitRows(row, 1, md, center).distances![0];
  };
}
