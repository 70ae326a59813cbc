// Keras model files → tfjs-layers models: Keras 2 HDF5 (`.h5`) and Keras 3 `.keras` zips.
import * as tfl from '@tensorflow/tfjs-layers';
import { convertKerasConfig, type ConvertedConfig } from './keras-config.ts';
import { loadKeras2Weights, loadKeras3Weights } from './keras-weights.ts';
import { attrString, openH5, openH5Bytes } from './h5-file.ts';
import type { ImportedModel } from './imported-model.ts';

function parseJson(text: string, what: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: ${what} is not valid JSON (${(e as Error).message}); the file is damaged, re-export the model`);
  }
}

async function build(conv: ConvertedConfig, file: string): Promise<tfl.LayersModel> {
  try {
    return await tfl.models.modelFromJSON({ modelTopology: conv.topology } as unknown as Parameters<typeof tfl.models.modelFromJSON>[0]);
  } catch (e) {
    throw new Error(`${file}: the Keras architecture could not be rebuilt in TensorFlow.js (${(e as Error).message})`);
  }
}

/** Imports a Keras 2.x HDF5 model (root attribute `model_config` + group `model_weights`). */
export async function importKerasH5(file: string): Promise<ImportedModel> {
  const h5 = await openH5(file);
  try {
    const raw = attrString(h5, 'model_config');
    if (!raw) {
      const weightsOnly = Boolean(h5.attrs['layer_names']);
      throw new Error(weightsOnly
        ? `${file}: this is a weights-only HDF5 file (saved with save_weights) with no architecture; save the whole model in Keras with model.save("model.h5") or model.save("model.keras") and import that`
        : `${file}: HDF5 file without a Keras "model_config" attribute; it is not a Keras model, export one with model.save("model.h5")`);
    }
    const cfg = parseJson(raw, 'model_config', file) as { class_name: string; config: Record<string, unknown> };
    const conv = convertKerasConfig(cfg, file);
    const model = await build(conv, file);
    loadKeras2Weights(model, h5, file);
    return { model, format: 'keras-h5', source: file, rescaling: conv.rescaling, kerasVersion: attrString(h5, 'keras_version') ?? undefined };
  } finally {
    h5.close();
  }
}

/** Imports a Keras 3 `.keras` archive from its unzipped entries (`config.json`, `model.weights.h5`). */
export async function importKeras3(entries: Record<string, Uint8Array>, file: string): Promise<ImportedModel> {
  const configBytes = entries['config.json'];
  const weights = entries['model.weights.h5'];
  if (!configBytes || !weights) throw new Error(`${file}: a .keras archive needs config.json and model.weights.h5; re-save the model with model.save("model.keras")`);
  const cfg = parseJson(Buffer.from(configBytes).toString('utf8'), 'config.json', file) as { class_name: string; config: Record<string, unknown> };
  const meta = entries['metadata.json'] ? (parseJson(Buffer.from(entries['metadata.json']).toString('utf8'), 'metadata.json', file) as { keras_version?: string }) : {};
  const conv = convertKerasConfig(cfg, file);
  const model = await build(conv, file);
  const h5 = await openH5Bytes(weights, `${file} (model.weights.h5)`);
  try {
    loadKeras3Weights(model, cfg, h5.file, `${file} (model.weights.h5)`);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    h5.close();
  }
  return { model, format: 'keras-v3', source: file, rescaling: conv.rescaling, kerasVersion: meta.keras_version };
}
