// Writes Keras-layout files from a config and weight arrays: Keras 2 HDF5 (`model_config` attribute +
// `model_weights` group) and Keras 3 `.keras` zips. Used by tests to make fixtures the way Keras does.
import { zipSync } from 'fflate';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { h5Ready, type Group } from './h5-file.ts';

/** One array to write. */
export interface WeightArray {
  shape: number[];
  data: Float32Array;
}

/** A top-level Keras 2 layer's weights: names as Keras writes them ("conv2d/kernel:0") and values. */
export interface Keras2LayerWeights {
  layer: string;
  names: string[];
  arrays: WeightArray[];
}

function ensureGroup(root: Group, p: string): Group {
  let g = root;
  for (const part of p.split('/').filter(Boolean)) g = (g.keys().includes(part) ? g.get(part) : g.create_group(part)) as Group;
  return g;
}

/** Writes a Keras 2.x model file: root attrs keras_version/backend/model_config, model_weights/<layer>/… datasets. */
export async function writeKeras2H5(file: string, modelConfig: unknown, layers: Keras2LayerWeights[], kerasVersion = '2.15.0'): Promise<void> {
  const lib = await h5Ready();
  const f = new lib.File(file, 'w');
  try {
    f.create_attribute('keras_version', kerasVersion);
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('model_config', JSON.stringify(modelConfig));
    const mw = f.create_group('model_weights');
    mw.create_attribute('keras_version', kerasVersion);
    mw.create_attribute('backend', 'tensorflow');
    mw.create_attribute('layer_names', layers.map((l) => l.layer));
    for (const l of layers) {
      const g = mw.create_group(l.layer);
      if (l.names.length) g.create_attribute('weight_names', l.names);
      else g.create_attribute('weight_names', new Float64Array(0), [0], '<d');
      l.names.forEach((name, i) => {
        const slash = name.lastIndexOf('/');
        const parent = slash >= 0 ? ensureGroup(g, name.slice(0, slash)) : g;
        parent.create_dataset({ name: name.slice(slash + 1), data: l.arrays[i].data, shape: l.arrays[i].shape, dtype: '<f' });
      });
    }
  } finally {
    f.close();
  }
}

/** Writes a Keras 3 `.keras` zip: config.json, metadata.json and model.weights.h5 with `<path>/vars/<i>` datasets. */
export async function writeKeras3Zip(file: string, config: unknown, vars: Record<string, WeightArray[]>, kerasVersion = '3.6.0'): Promise<void> {
  const lib = await h5Ready();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cxr-k3-'));
  const h5path = path.join(dir, 'model.weights.h5');
  try {
    const f = new lib.File(h5path, 'w');
    try {
      for (const [p, arrays] of Object.entries(vars)) {
        const g = ensureGroup(f, `${p}/vars`);
        arrays.forEach((a, i) => g.create_dataset({ name: String(i), data: a.data, shape: a.shape, dtype: '<f' }));
      }
    } finally {
      f.close();
    }
    const zip = zipSync({
      'metadata.json': Buffer.from(JSON.stringify({ keras_version: kerasVersion, date_saved: '2024-01-01@00:00:00' })),
      'config.json': Buffer.from(JSON.stringify(config)),
      'model.weights.h5': await fsp.readFile(h5path),
    });
    await fsp.writeFile(file, zip);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
