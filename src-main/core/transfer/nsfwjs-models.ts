// The backbones that ship with the app: nsfwjs's Keras models (MIT licence), ImageNet-initialised then
// fine-tuned by nsfwjs on its own 5-class task. nsfwjs bundles each tfjs layers model as CommonJS files
// (model.min.js: the model.json object; group1-shardKofN.min.js: each weight shard as base64); we read
// those from the installed package, nothing is downloaded. Preprocessing: pixels / 255 (our
// `scale255`), RGB; grayscale X-rays are replicated to 3 channels.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { withBatchNormScale } from '../models/batch-norm-scale.ts';

/** A backbone bundled by nsfwjs: its folder, native size, shard count and where its conv base ends. */
export interface NsfwBackbone {
  folder: 'mobilenet_v2' | 'inception_v3';
  label: string;
  size: number;
  shards: number;
  /** The last layer before nsfwjs's pooling and classifier head. */
  cutAt: string;
  /** Provenance, for metadata and model cards. */
  source: string;
}

/** The backbones `cxr train --base` offers from nsfwjs, by the name the user types. */
export const NSFW_BACKBONES: Readonly<Record<'mobilenetv2' | 'inceptionv3', NsfwBackbone>> = {
  mobilenetv2: { folder: 'mobilenet_v2', label: 'MobileNetV2', size: 224, shards: 1, cutAt: 'out_relu', source: 'nsfwjs MobileNetV2 (alpha 1.0; ImageNet-initialised, fine-tuned by nsfwjs; MIT)' },
  inceptionv3: { folder: 'inception_v3', label: 'InceptionV3', size: 299, shards: 6, cutAt: 'mixed10', source: 'nsfwjs InceptionV3 (ImageNet-initialised, fine-tuned by nsfwjs; MIT)' },
};

/** Folder of one of nsfwjs's bundled models. */
export function nsfwModelDir(b: NsfwBackbone): string {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve('nsfwjs');
  } catch {
    throw new Error(`the ${b.label} backbone comes from the "nsfwjs" package, which is not installed; run \`npm ci\` in the app folder`);
  }
  return path.resolve(path.dirname(main), '..', 'models', b.folder);
}

/** Loads one of nsfwjs's full layers models (its native input size, its own head) from the installed package; BatchNorm layers without scale get a scale of ones (see batch-norm-scale.ts). */
export async function loadNsfwModel(b: NsfwBackbone): Promise<tfl.LayersModel> {
  const dir = nsfwModelDir(b);
  const modelFile = path.join(dir, 'model.min.js');
  const shardFiles = Array.from({ length: b.shards }, (_, i) => path.join(dir, `group1-shard${i + 1}of${b.shards}.min.js`));
  for (const f of [modelFile, ...shardFiles]) if (!existsSync(f)) throw new Error(`${f}: ${b.label} file missing from the nsfwjs package; reinstall it with \`npm ci\``);
  const require = createRequire(import.meta.url);
  const json = require(modelFile) as { modelTopology?: object; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  const shards = shardFiles.map((f) => require(f) as unknown);
  if (!json.modelTopology || !Array.isArray(json.weightsManifest) || shards.some((s) => typeof s !== 'string')) {
    throw new Error(`${dir}: not the layers-format ${b.label} this version expects (nsfwjs changed its bundle); install nsfwjs@4`);
  }
  const bytes = Buffer.concat(shards.map((s) => Buffer.from(s as string, 'base64')));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  return tfl.loadLayersModel(tf.io.fromMemory(withBatchNormScale({ modelTopology: json.modelTopology, weightSpecs, weightData })));
}
