import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { sha256Hex } from '../fs/atomic-write.ts';
import { withBatchNormScale } from './batch-norm-scale.ts';
import { quantizeWeightData, type QuantizeStats, type WeightStorage } from './quantize-weights.ts';

/** The shape of a tfjs `model.json`. */
interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

/** Reads a tfjs layers model folder (model.json + shards) into artifacts; returns the weights' sha256 too. */
export async function readModelArtifacts(dir: string): Promise<{ artifacts: tf.io.ModelArtifacts; weightsSha256: string }> {
  const jsonPath = path.join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(await fsp.readFile(jsonPath, 'utf8')) as ModelJson;
  } catch (e) {
    throw new Error(`${jsonPath}: cannot read the model (${(e as Error).message}); reinstall or re-import the model`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${jsonPath}: not a TensorFlow.js layers model (no modelTopology/weightsManifest)`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const f = path.join(dir, p);
      try {
        buffers.push(await fsp.readFile(f));
      } catch (e) {
        throw new Error(`${f}: missing weight shard (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); reinstall or re-import the model`);
      }
    }
    specs.push(...group.weights);
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return {
    artifacts: { modelTopology: json.modelTopology as object, weightSpecs: specs, weightData, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy ?? undefined },
    weightsSha256: sha256Hex(all),
  };
}

/** Loads a tfjs layers model from a folder (BatchNorm layers without scale get a scale of ones, see batch-norm-scale.ts). */
export async function loadLayersModelFromDir(dir: string): Promise<{ model: tfl.LayersModel; weightsSha256: string }> {
  const { artifacts, weightsSha256 } = await readModelArtifacts(dir);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(withBatchNormScale(artifacts)));
  return { model, weightsSha256 };
}

/**
 * Writes a layers model as `model.json` + `weights.bin` into `dir` (which must exist), kernels stored as
 * `storage` (see quantize-weights.ts); returns the weights' sha256 and what the storage did.
 */
export async function writeLayersModelToDir(model: tfl.LayersModel, dir: string, storage: WeightStorage = 'float32'): Promise<{ sha256: string; stats: QuantizeStats }> {
  let sha = '';
  let stats: QuantizeStats | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const wd = artifacts.weightData;
      const raw = wd == null ? new Uint8Array(0) : Array.isArray(wd) ? Buffer.concat(wd.map((b) => Buffer.from(b))) : new Uint8Array(wd);
      let bytes: Uint8Array = raw;
      stats = { quantizedTensors: 0, bytesBefore: raw.byteLength, bytesAfter: raw.byteLength, maxAbsError: 0, uint16Tensors: 0 };
      let specs = artifacts.weightSpecs ?? [];
      if (storage !== 'float32') {
        // Checkpoints and float32 models skip this: no copy of the weights on every save.
        const packed = quantizeWeightData(specs, raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer, storage);
        ({ stats, specs } = packed);
        bytes = new Uint8Array(packed.data);
      }
      sha = sha256Hex(bytes);
      const modelJson = {
        modelTopology: compactTopology(artifacts.modelTopology),
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
      };
      await fsp.writeFile(path.join(dir, 'weights.bin'), bytes);
      await fsp.writeFile(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.byteLength } };
    }),
  );
  return { sha256: sha, stats: stats! };
}

/**
 * The topology without what only building a fresh, untrained layer uses: every `*_initializer`, and
 * `*_regularizer` / `*_constraint` entries that are null. A saved model is always loaded with its weights, so
 * initializers never act; tfjs and Keras fill the defaults in. A shipped ensemble's model.json shrinks by a third.
 * The input is not modified.
 */
export function compactTopology<T>(topology: T): T {
  if (Array.isArray(topology)) return topology.map(compactTopology) as T;
  if (!topology || typeof topology !== 'object') return topology;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(topology)) {
    if (k.endsWith('_initializer') || ((k.endsWith('_regularizer') || k.endsWith('_constraint')) && v === null)) continue;
    out[k] = compactTopology(v);
  }
  return out as T;
}
