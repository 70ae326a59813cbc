// The MobileNetV2 backbone that ships with the app: nsfwjs's Keras MobileNetV2 (alpha 1.0, 224×224×3,
// ImageNet-initialised then fine-tuned by nsfwjs on its own 5-class task; MIT licence). nsfwjs bundles
// the tfjs layers model as CommonJS files (model.min.js: model.json object; group1-shard1of1.min.js:
// the weight shard as base64); we read those from the installed package, nothing is downloaded.
// Preprocessing: pixels / 255 (our `scale255`), RGB; grayscale X-rays are replicated to 3 channels.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Where the layer the conv base ends (before nsfwjs's pooling and classifier head). */
export const MOBILENET_V2_CUT = 'out_relu';

/** Folder of nsfwjs's bundled MobileNetV2 model files. */
export function mobileNetV2Dir(): string {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve('nsfwjs');
  } catch {
    throw new Error('the MobileNetV2 backbone comes from the "nsfwjs" package, which is not installed; run `npm ci` in the app folder');
  }
  return path.resolve(path.dirname(main), '..', 'models', 'mobilenet_v2');
}

/** Loads nsfwjs's full MobileNetV2 layers model (224×224×3 input, its own head) from the installed package. */
export async function loadNsfwMobileNetV2(): Promise<tfl.LayersModel> {
  const dir = mobileNetV2Dir();
  const modelFile = path.join(dir, 'model.min.js');
  const shardFile = path.join(dir, 'group1-shard1of1.min.js');
  for (const f of [modelFile, shardFile]) if (!existsSync(f)) throw new Error(`${f}: MobileNetV2 file missing from the nsfwjs package; reinstall it with \`npm ci\``);
  const require = createRequire(import.meta.url);
  const json = require(modelFile) as { modelTopology?: object; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  const shard = require(shardFile) as unknown;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest) || typeof shard !== 'string') {
    throw new Error(`${dir}: not the layers-format MobileNetV2 this version expects (nsfwjs changed its bundle); install nsfwjs@4`);
  }
  const bytes = Buffer.from(shard, 'base64');
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}
