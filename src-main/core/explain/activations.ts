/**
 * Layer activations for one image: the output of every spatial layer (or a chosen subset), all
 * channels, from ONE forward pass of a multi-output model built on the model's own graph
 * (nested models expanded). Each layer's tensor is downloaded, turned into per-channel 8-bit maps
 * and disposed before the next, so at most one layer is held as float32 in JavaScript.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ActivationMap, ActivationsResult } from '../../../src-shared/explain-types.ts';
import { prepareImage, positiveProbability, predictedIndex, type ExplainModel, type ImageSource } from './explain-model.ts';
import { derivedModel, isSpatial, modelGraph, type GraphLayer } from './graph.ts';

/** Receives each layer's maps as they are read out (awaited before the next layer). */
export type OnLayer = (map: ActivationMap, index: number, total: number) => void | Promise<void>;

/** Which layers to return: 'all' spatial layers (default) or names (as listed by `spatialLayers`). */
export interface ActivationOptions {
  layers?: 'all' | string[];
}

/** The names, classes and shapes of a model's layers with a spatial [h, w, c] output. */
export function spatialLayers(model: tfl.LayersModel): Array<{ name: string; className: string; shape: [number, number, number] }> {
  return modelGraph(model).layers.filter(isSpatial).map((l) => ({ name: l.name, className: l.className, shape: l.shape as [number, number, number] }));
}

function chooseLayers(ref: ExplainModel, wanted: 'all' | string[]): GraphLayer[] {
  const all = modelGraph(ref.model).layers;
  const spatial = all.filter(isSpatial);
  if (spatial.length === 0) {
    throw new Error(`model "${ref.metadata.id}" has no layer with a spatial output [h, w, c] (layers: ${all.map((l) => l.name).join(', ')}); there is nothing to show as maps`);
  }
  if (wanted === 'all') return spatial;
  const names = spatial.map((l) => l.name).join(', ');
  return wanted.map((name) => {
    const hit = all.find((l) => l.name === name) ?? all.find((l) => l.name.endsWith(`/${name}`));
    if (!hit) throw new Error(`model "${ref.metadata.id}" has no layer "${name}"; layers with spatial maps: ${names}`);
    if (!isSpatial(hit)) throw new Error(`layer "${name}" of model "${ref.metadata.id}" outputs [${hit.shape.join(', ')}], not a spatial map; choose from: ${names}`);
    return hit;
  });
}

/** Converts one [1, h, w, c] float activation to per-channel min/max-scaled 8-bit maps (channel-major). */
export function toActivationMap(layer: { name: string; className: string }, data: Float32Array, h: number, w: number, c: number): ActivationMap {
  const min = new Float32Array(c).fill(Infinity);
  const max = new Float32Array(c).fill(-Infinity);
  for (let i = 0; i < data.length; i += c) {
    for (let k = 0; k < c; k++) {
      const v = data[i + k];
      if (v < min[k]) min[k] = v;
      if (v > max[k]) max[k] = v;
    }
  }
  const hw = h * w;
  const maps = new Uint8Array(hw * c);
  const scale = new Float64Array(c);
  for (let k = 0; k < c; k++) scale[k] = max[k] > min[k] ? 255 / (max[k] - min[k]) : 0;
  // From [hw, c] to [c, hw] in tiles of TILE pixels, so that reads and writes both stay in cache. The value
  // (v − min)·scale lies in [0, 255]; + 0.5 then the Uint8Array's truncation is Math.round.
  for (let p0 = 0; p0 < hw; p0 += TILE) {
    const p1 = Math.min(hw, p0 + TILE);
    for (let k = 0; k < c; k++) {
      const lo = min[k];
      const s = scale[k];
      for (let p = p0, i = p0 * c + k, o = k * hw + p0; p < p1; p++, i += c, o++) maps[o] = (data[i] - lo) * s + 0.5;
    }
  }
  return { layer: layer.name, className: layer.className, shape: [h, w, c], maps, min: Array.from(min), max: Array.from(max) };
}

const TILE = 64;

/**
 * Runs the forward pass and hands each chosen layer's maps to `onLayer` one at a time (awaited),
 * disposing that layer's tensor before converting the next. Returns P(positive) and the label.
 */
export async function streamActivations(
  ref: ExplainModel,
  image: ImageSource,
  onLayer: OnLayer,
  opts: ActivationOptions = {},
): Promise<Omit<ActivationsResult, 'layers'>> {
  const { kept, ...rest } = await activationsKeeping(ref, image, onLayer, opts);
  kept?.activation.dispose();
  return rest;
}

/** One layer's output kept (not disposed) from an activations pass, with that pass's output row. */
export interface KeptActivation {
  layer: string;
  activation: tf.Tensor;
  row: Float32Array;
}

/**
 * `streamActivations`, keeping the tensor of layer `keep` (a full name, if it is among the chosen layers) for the
 * caller, who must dispose it: Grad-CAM at that layer then needs no forward pass of its own (see explain-image.ts).
 */
export async function activationsKeeping(
  ref: ExplainModel,
  image: ImageSource,
  onLayer: OnLayer,
  opts: ActivationOptions = {},
  keep?: string,
): Promise<Omit<ActivationsResult, 'layers'> & { kept?: KeptActivation }> {
  const t0 = performance.now();
  const md = ref.metadata;
  const chosen = chooseLayers(ref, opts.layers ?? 'all');
  const prepared = await prepareImage(image, md.input);
  const key = `act:${chosen.map((l) => l.name).join('\u0000')}`;
  const multi = derivedModel(ref.model, key, () => tfl.model({ inputs: ref.model.inputs, outputs: [...chosen.map((l) => l.output), ...modelGraph(ref.model).outputs] }));
  const { height, width, channels } = md.input;
  const outs = tf.tidy(() => {
    const r = multi.predict(tf.tensor4d(prepared.data, [1, height, width, channels]));
    return Array.isArray(r) ? r : [r];
  });
  let row: Float32Array;
  let kept: KeptActivation | undefined;
  try {
    row = (await outs[chosen.length].data()) as Float32Array;
    for (let i = 0; i < chosen.length; i++) {
      const t = outs[i];
      const [, h, w, c] = t.shape;
      const data = (await t.data()) as Float32Array;
      if (chosen[i].name === keep && !kept) kept = { layer: keep, activation: t, row };
      else t.dispose();
      await onLayer(toActivationMap(chosen[i], data, h, w, c), i, chosen.length);
    }
  } catch (e) {
    kept?.activation.dispose();
    throw e;
  } finally {
    for (const t of outs) if (!t.isDisposed && t !== kept?.activation) t.dispose();
  }
  const probability = positiveProbability(row, md);
  return {
    modelId: md.id,
    input: [height, width, channels],
    probability,
    label: md.classNames[predictedIndex(row, md)],
    milliseconds: performance.now() - t0,
    kept,
  };
}

/** The activations of `image` at every spatial layer (or `opts.layers`), as plain data. */
export async function layerActivations(ref: ExplainModel, image: ImageSource, opts: ActivationOptions = {}): Promise<ActivationsResult> {
  const layers: ActivationMap[] = [];
  const rest = await streamActivations(ref, image, (m) => void layers.push(m), opts);
  return { ...rest, layers };
}
