// TensorFlow.js layers models (model.json + weight shards) from a folder or a zip → tfjs-layers models.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { convertKerasConfig } from './keras-config.ts';
import type { ImportedModel } from './imported-model.ts';

interface ModelJson {
  format?: string;
  modelTopology?: Record<string, unknown>;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

/** Reads one file of the model by its path relative to model.json; throws naming it. */
export type ShardReader = (relative: string) => Promise<Uint8Array>;

/** Builds a layers model from a parsed model.json; refuses graph models with a conversion hint. */
export async function importTfjsJson(jsonText: string, readShard: ShardReader, label: string): Promise<ImportedModel> {
  let json: ModelJson;
  try {
    json = JSON.parse(jsonText) as ModelJson;
  } catch (e) {
    throw new Error(`${label}: model.json is not valid JSON (${(e as Error).message}); the file is damaged, re-convert the model`);
  }
  const topo = json.modelTopology;
  if (json.format === 'graph-model' || (topo && ('node' in topo || 'versions' in topo))) {
    throw new Error(`${label}: TensorFlow.js graph models are not supported (only layers models can be stored and fine-tuned); convert the original Keras model with \`tensorflowjs_converter --input_format keras model.h5 out/\`, or import the Keras .h5/.keras file directly with \`cxr import model.h5\``);
  }
  if (!topo || !Array.isArray(json.weightsManifest)) throw new Error(`${label}: not a TensorFlow.js layers model (modelTopology and weightsManifest expected)`);
  const byTfjs = String((json as { generatedBy?: string }).generatedBy ?? '').startsWith('TensorFlow.js tfjs-layers');
  const conv = convertKerasConfig(topo.model_config ?? topo, label, { nodeIndexing: byTfjs ? 'tfjs' : 'keras' });
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) buffers.push(await readShard(p));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: conv.topology, weightSpecs: specs, weightData }));
  } catch (e) {
    throw new Error(`${label}: the TensorFlow.js model could not be loaded (${(e as Error).message}); check that all weight shards are present and unmodified`);
  }
  const kv = (topo.keras_version as string | undefined) ?? undefined;
  return { model, format: 'tfjs-layers', source: label, rescaling: conv.rescaling, kerasVersion: kv };
}

/** Imports a tfjs layers model folder (model.json + shards). */
export async function importTfjsFolder(dir: string): Promise<ImportedModel> {
  const jsonPath = path.join(dir, 'model.json');
  let text: string;
  try {
    text = await fsp.readFile(jsonPath, 'utf8');
  } catch {
    throw new Error(`${dir}: no model.json in this folder; point to a TensorFlow.js layers model folder, a .h5/.keras file or a zip`);
  }
  return importTfjsJson(text, async (rel) => {
    const f = path.join(dir, rel);
    try {
      return await fsp.readFile(f);
    } catch {
      throw new Error(`${f}: weight shard listed in model.json is missing; copy the whole model folder`);
    }
  }, dir);
}

/** Imports a tfjs layers model from unzipped entries (model.json may sit in a sub-folder). */
export async function importTfjsZip(entries: Record<string, Uint8Array>, file: string): Promise<ImportedModel> {
  const jsonName = Object.keys(entries).filter((n) => n === 'model.json' || n.endsWith('/model.json')).sort((a, b) => a.length - b.length)[0];
  if (!jsonName) throw new Error(`${file}: zip without model.json or config.json; not a TensorFlow.js or Keras model`);
  const base = jsonName.slice(0, -'model.json'.length);
  return importTfjsJson(Buffer.from(entries[jsonName]).toString('utf8'), async (rel) => {
    const bytes = entries[base + rel];
    if (!bytes) throw new Error(`${file}: weight shard ${base + rel} listed in model.json is missing from the zip; zip the whole model folder`);
    return bytes;
  }, file);
}
