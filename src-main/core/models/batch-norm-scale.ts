// BatchNormalization layers saved with `scale: false` (Keras' InceptionV3 has 94 of them) cannot be
// differentiated through in TensorFlow.js: the batchNorm op passes an absent scale to the kernel and the
// engine, when it records the op for a gradient, clones that absent input and throws ("Cannot read
// properties of undefined (reading 'dtype')"; tensorflow/tfjs#2868, open). That broke Grad-CAM below the
// last such layer and fine-tuning through it. A BN layer without scale is the same function as one with
// scale 1, so on loading we rewrite each as `scale: true` with a gamma of ones: outputs are unchanged,
// gradients work, and the files on disk (and their sha256) are left as they are.
import type * as tf from '@tensorflow/tfjs-core';

type Json = Record<string, unknown>;

function scaleLessBatchNorms(node: unknown, found: Json[]): void {
  if (Array.isArray(node)) {
    for (const n of node) scaleLessBatchNorms(n, found);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Json;
  const config = o.config as Json | undefined;
  if (o.class_name === 'BatchNormalization' && config && config.scale === false) found.push(config);
  for (const v of Object.values(o)) if (v && typeof v === 'object') scaleLessBatchNorms(v, found);
}

/**
 * Returns `artifacts` with every BatchNormalization layer that has `scale: false` turned into one with
 * `scale: true` and a gamma of ones (appended to the weights), so TensorFlow.js can take gradients
 * through it. Artifacts without such layers are returned as they are; the input is never modified.
 */
export function withBatchNormScale(artifacts: tf.io.ModelArtifacts): tf.io.ModelArtifacts {
  const { modelTopology, weightSpecs, weightData } = artifacts;
  if (!modelTopology || !weightSpecs || !(weightData instanceof ArrayBuffer)) return artifacts;
  const found: Json[] = [];
  scaleLessBatchNorms(modelTopology, found);
  if (!found.length) return artifacts;
  const topology = structuredClone(modelTopology) as Json;
  found.length = 0;
  scaleLessBatchNorms(topology, found);
  const specs = [...weightSpecs];
  const ones: Float32Array[] = [];
  for (const config of found) {
    const mean = weightSpecs.find((s) => s.name === `${String(config.name)}/moving_mean` || s.name.endsWith(`/${String(config.name)}/moving_mean`));
    if (!mean) continue; // no weights to size gamma by: leave the layer as it is
    const gamma = `${mean.name.slice(0, -'moving_mean'.length)}gamma`;
    if (weightSpecs.some((s) => s.name === gamma)) continue;
    config.scale = true;
    specs.push({ name: gamma, shape: mean.shape, dtype: 'float32' });
    ones.push(new Float32Array(mean.shape.reduce((a, b) => a * b, 1)).fill(1));
  }
  if (!ones.length) return artifacts;
  const extra = ones.reduce((n, a) => n + a.byteLength, 0);
  const data = new Uint8Array(weightData.byteLength + extra);
  data.set(new Uint8Array(weightData), 0);
  let at = weightData.byteLength;
  for (const a of ones) {
    data.set(new Uint8Array(a.buffer), at);
    at += a.byteLength;
  }
  return { ...artifacts, modelTopology: topology, weightSpecs: specs, weightData: data.buffer };
}
