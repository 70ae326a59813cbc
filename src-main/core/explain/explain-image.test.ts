import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ActivationMap } from '../../../src-shared/explain-types.ts';
import { initEngine } from '../engine/backend.ts';
import { layerActivations } from './activations.ts';
import { explainImage } from './explain-image.ts';
import type { ExplainModel } from './explain-model.ts';
import { gradCam } from './gradcam.ts';
import { quadrantImage, skipModel, testMetadata } from './test-models.ts';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const n = 32;
const image = { data: quadrantImage(n), originalWidth: n, originalHeight: n };

// Counts forward passes (LayersModel.predict) made while `f` runs; Grad-CAM's tail is applied, not predicted.
async function countPredicts<T>(f: () => Promise<T>): Promise<{ value: T; predicts: number }> {
  const proto = tfl.LayersModel.prototype;
  const original = proto.predict;
  let predicts = 0;
  proto.predict = function (this: tfl.LayersModel, ...args: Parameters<typeof original>) {
    predicts++;
    return original.apply(this, args);
  };
  try {
    return { value: await f(), predicts };
  } finally {
    proto.predict = original;
  }
}

test('explainImage: the same maps and heatmap as the two separate calls, from one forward pass, no leaked tensors', async () => {
  const ref: ExplainModel = { model: skipModel(n), metadata: testMetadata('skip', n) };
  for (const cam of [{}, { layer: 'conv_b', method: 'gradcam++' as const }, { targetClass: 'NORMAL' }]) {
    const alone = await layerActivations(ref, image);
    const camAlone = await gradCam(ref, image, cam);
    const maps: ActivationMap[] = [];
    const before = tf.memory().numTensors;
    const { value, predicts } = await countPredicts(() => explainImage(ref, image, (m) => void maps.push(m), { cam }));
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    assert.equal(predicts, 1, 'one forward pass for both');
    assert.deepEqual(maps.map((m) => [m.layer, Array.from(m.maps)]), alone.layers.map((m) => [m.layer, Array.from(m.maps)]));
    assert.equal(value.activations.probability, alone.probability);
    const got = value.cam;
    assert.equal(got.layer, camAlone.layer);
    assert.equal(got.targetClass, camAlone.targetClass);
    assert.equal(got.method, camAlone.method);
    assert.ok(Math.abs(got.camMax - camAlone.camMax) <= 1e-6 * Math.max(1, camAlone.camMax), `${got.camMax} vs ${camAlone.camMax}`);
    got.cam.forEach((v, i) => assert.ok(Math.abs(v - camAlone.cam[i]) < 1e-5, `cam[${i}] ${v} vs ${camAlone.cam[i]}`));
  }
  ref.model.dispose();
});

test('explainImage: a Grad-CAM layer outside the chosen layers gets its own forward pass, and the same answer', async () => {
  const ref: ExplainModel = { model: skipModel(n), metadata: testMetadata('skip', n) };
  const camAlone = await gradCam(ref, image, { layer: 'conv_c' });
  const layers: string[] = [];
  const before = tf.memory().numTensors;
  const { value, predicts } = await countPredicts(() => explainImage(ref, image, (m) => void layers.push(m.layer), { layers: ['conv_a'], cam: { layer: 'conv_c' } }));
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(layers, ['conv_a']);
  assert.equal(predicts, 2);
  value.cam.cam.forEach((v, i) => assert.ok(Math.abs(v - camAlone.cam[i]) < 1e-5));
  await assert.rejects(explainImage(ref, image, () => {}, { cam: { layer: 'flat' } }), /not a spatial map/);
  assert.equal(tf.memory().numTensors, before);
  ref.model.dispose();
});

test('explainImage: an error while the maps stream out leaves no tensor behind', async () => {
  const ref: ExplainModel = { model: skipModel(n), metadata: testMetadata('skip', n) };
  await explainImage(ref, image, () => {});
  const before = tf.memory().numTensors;
  await assert.rejects(explainImage(ref, image, (_m, i) => { if (i === 3) throw new Error('disk full'); }), /disk full/);
  assert.equal(tf.memory().numTensors, before);
  ref.model.dispose();
});
