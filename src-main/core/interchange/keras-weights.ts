// Copies Keras weights into a tfjs-layers model built from the same config.
// Keras 2 `.h5`: model_weights/<layer>/ with a `weight_names` attribute listing datasets
//   (e.g. "conv2d/kernel:0"); nested models keep all their weights in their own top-level group.
// Keras 3 `model.weights.h5`: layers/<key>/vars/0..n, where <key> is the snake_case class name
//   with a per-container counter (conv2d, conv2d_1, …); nested models: layers/<key>/layers/<key>/vars.
// Kernel layouts (HWIO convolutions, [in, out] dense) are identical in Keras and tfjs.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { attrStrings, getGroup, readArray, type Group, type H5Array } from './h5-file.ts';

type Entry = { class_name: string; config: Record<string, unknown>; name?: string };

function isContainer(layer: tfl.layers.Layer): layer is tfl.LayersModel {
  return Array.isArray((layer as unknown as { layers?: unknown }).layers);
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Sets one layer's weights from arrays (matched by name where names are given, else by order). */
function setLayerWeights(layer: tfl.layers.Layer, arrays: H5Array[], names: string[] | null, label: string): void {
  const targets = layer.weights;
  let chosen: H5Array[] = arrays;
  if (names) {
    const clean = names.map((n) => n.replace(/:\d+$/, ''));
    const byName = targets.map((w) => {
      const on = w.originalName;
      const hits = clean.map((n, i) => (n === on || n.endsWith('/' + on) || on.endsWith('/' + n) ? i : -1)).filter((i) => i >= 0);
      return hits.length === 1 ? arrays[hits[0]] : null;
    });
    if (byName.every((x) => x)) chosen = byName as H5Array[];
    else chosen = arrays.filter((_, i) => !/(^|\/)count$/.test(clean[i]));
  } else if (layer.getClassName() === 'Normalization' && arrays.length > targets.length) {
    chosen = arrays.slice(0, targets.length);
  }
  if (chosen.length !== targets.length) {
    throw new Error(`${label}: layer "${layer.name}" has ${chosen.length} weight arrays in the file but the model needs ${targets.length}; the weights do not belong to this architecture`);
  }
  const tensors = chosen.map((a, i) => {
    const want = targets[i].shape as number[];
    if (!same(a.shape, want)) {
      throw new Error(`${label}: layer "${layer.name}" weight ${targets[i].originalName} has shape [${a.shape}] in the file but the model needs [${want}]; the weights do not belong to this architecture`);
    }
    return tf.tensor(a.data, want, 'float32');
  });
  layer.setWeights(tensors);
  tf.dispose(tensors);
}

/** Loads Keras 2 (`model_weights` group, or a weights-only file's root) into `model`. */
export function loadKeras2Weights(model: tfl.LayersModel, root: Group, label: string): void {
  const mw = getGroup(root, 'model_weights') ?? root;
  for (const layer of model.layers) {
    if (!layer.weights.length) continue;
    const g = getGroup(mw, layer.name);
    if (!g) throw new Error(`${label}: no weights for layer "${layer.name}" (group model_weights/${layer.name} missing); the file is incomplete, re-export the model`);
    const names = attrStrings(g, 'weight_names') ?? [];
    const arrays = names.map((n) => readArray(g, n, label));
    setLayerWeights(layer, arrays, names, label);
  }
}

/** Keras' `naming.to_snake_case`. */
export function toSnakeCase(name: string): string {
  return name.replace(/\W+/g, '').replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Keras 3 weight-store keys of a container's layers, by layer name (class name + counter). */
export function keras3Keys(entries: Entry[]): Map<string, string> {
  const used = new Map<string, number>();
  const keys = new Map<string, string>();
  for (const e of entries) {
    let key = toSnakeCase(e.class_name);
    const n = used.get(key);
    if (n === undefined) used.set(key, 0);
    else { used.set(key, n + 1); key = `${key}_${n + 1}`; }
    keys.set(String(e.config?.name ?? e.name), key);
  }
  return keys;
}

function readVars(g: Group, label: string): H5Array[] {
  const vars = getGroup(g, 'vars');
  if (!vars) return [];
  return vars.keys().sort((a, b) => Number(a) - Number(b)).map((k) => readArray(vars, k, label));
}

function loadContainer3(model: tfl.LayersModel, entries: Entry[], group: Group, label: string): void {
  const keys = keras3Keys(entries);
  const byName = new Map(entries.map((e) => [String(e.config?.name ?? e.name), e]));
  for (const layer of model.layers) {
    if (!layer.weights.length) continue;
    const key = keys.get(layer.name);
    const g = (key && getGroup(group, `layers/${key}`)) || getGroup(group, `layers/${layer.name}`);
    if (!g) throw new Error(`${label}: no weights for layer "${layer.name}" (layers/${key ?? layer.name} missing in model.weights.h5); the file is incomplete, re-export the model`);
    if (isContainer(layer)) {
      const inner = (byName.get(layer.name)?.config.layers as Entry[] | undefined) ?? [];
      loadContainer3(layer, inner, g, label);
    } else {
      setLayerWeights(layer, readVars(g, label), null, label);
    }
  }
}

/** Loads a Keras 3 `model.weights.h5` into `model`, given the original (unconverted) Keras config. */
export function loadKeras3Weights(model: tfl.LayersModel, kerasConfig: Entry, root: Group, label: string): void {
  const entries = (kerasConfig.config.layers as Entry[] | undefined) ?? [];
  loadContainer3(model, entries, root, label);
}
