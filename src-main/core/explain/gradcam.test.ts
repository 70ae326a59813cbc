import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { buildArchitecture } from '../architectures/cnn.ts';
import { initEngine } from '../engine/backend.ts';
import { decodeImage } from '../imaging/decode.ts';
import { loadLayersModelFromDir, writeLayersModelToDir } from '../models/tfjs-files.ts';
import { realData, tempDir } from '../test-support.ts';
import type { ExplainModel } from './explain-model.ts';
import { gradCam } from './gradcam.ts';
import { modelGraph, tailModel } from './graph.ts';
import { heatmapPng, overlayPng } from './render.ts';
import { scoreGradCam } from './shortcut-audit.ts';
import { quadrantImage, quadrantModel, skipModel, testMetadata } from './test-models.ts';

const data = realData();
before(async () => {
  await initEngine({ backend: 'wasm' });
});

function quadrantMass(cam: Float32Array, w: number, h: number): number {
  let all = 0;
  let tl = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    all += cam[y * w + x];
    if (y < h / 2 && x < w / 2) tl += cam[y * w + x];
  }
  return tl / all;
}

test('Grad-CAM and Grad-CAM++ find the known answer (score depends only on the top-left quadrant), sigmoid and softmax alike', async () => {
  const n = 32;
  const image = { data: quadrantImage(n), originalWidth: n, originalHeight: n };
  const cams: Float32Array[] = [];
  for (const head of ['sigmoid', 'softmax'] as const) {
    const ref: ExplainModel = { model: quadrantModel(n, head), metadata: testMetadata(`quadrant-${head}`, n, head) };
    for (const method of ['gradcam', 'gradcam++'] as const) {
      const r = await gradCam(ref, image, { method });
      assert.equal(r.layer, 'feat');
      assert.equal(r.score, 'logit');
      assert.equal(r.targetClass, 'PNEUMONIA');
      assert.ok(r.probability > 0.99, `P = ${r.probability}`);
      assert.equal(r.cam.length, n * n);
      const mass = quadrantMass(r.cam, r.width, r.height);
      assert.ok(mass > 0.99, `${head} ${method}: only ${mass} of the mass in the top-left quadrant`);
      if (method === 'gradcam') cams.push(r.cam);
      const s = scoreGradCam(r);
      assert.ok(s.corners.topLeft > 0.05 && s.corners.topRight === 0 && s.corners.bottomRight === 0, JSON.stringify(s));
      assert.ok(s.outside > 0.3 && s.outside < 0.6, `outside ${s.outside}`);
    }
    // The other class has no positive evidence anywhere: lowering the quadrant's brightness is all it can ask for.
    const other = await gradCam(ref, image, { targetClass: 'NORMAL' });
    assert.equal(other.targetClass, 'NORMAL');
    assert.ok(other.targetProbability < 0.01);
    assert.equal(other.camMax, 0);
    assert.ok(scoreGradCam(other).empty);
  }
  for (let i = 0; i < cams[0].length; i++) assert.ok(Math.abs(cams[0][i] - cams[1][i]) < 1e-4, 'sigmoid and softmax heads disagree');
});

test('the split at a layer inside a skip connection feeds the original input too and reproduces the model', async () => {
  const model = skipModel(32);
  const ref: ExplainModel = { model, metadata: testMetadata('skip', 32) };
  const x = tf.randomUniform([1, 32, 32, 1], 0, 1, 'float32', 5);
  const g = modelGraph(model);
  const convB = g.layers.find((l) => l.name === 'conv_b')!;
  const tail = tailModel(model, 'conv_b');
  assert.equal(tail.needsOriginal, true);
  assert.equal(tailModel(model, 'conv_c').needsOriginal, false);
  const [want, got] = tf.tidy(() => {
    const a = tfl.model({ inputs: model.inputs, outputs: convB.output }).predict(x) as tf.Tensor;
    return [(model.predict(x) as tf.Tensor).dataSync(), (tail.model.predict([x, a]) as tf.Tensor).dataSync()];
  });
  assert.ok(Math.abs(want[0] - got[0]) < 1e-6, `tail ${got[0]} vs model ${want[0]}`);
  const r = await gradCam(ref, { data: (await x.data()) as Float32Array, originalWidth: 32, originalHeight: 32 }, { layer: 'conv_b' });
  assert.equal(r.layer, 'conv_b');
  assert.ok(r.cam.every(Number.isFinite));
  // The extra symbolic nodes the split adds do not change how the model saves and predicts.
  const tmp = tempDir('cxr-gradcam-');
  try {
    await writeLayersModelToDir(model, tmp.dir);
    const { model: again } = await loadLayersModelFromDir(tmp.dir);
    const y = tf.tidy(() => (again.predict(x) as tf.Tensor).dataSync());
    assert.ok(Math.abs(y[0] - want[0]) < 1e-6);
    again.dispose();
  } finally {
    tmp.cleanup();
  }
  x.dispose();
});

test('on a real X-ray: overlay and heatmap PNGs have the original size; repeated calls leak no tensors', { skip: data.skip }, async () => {
  const model = buildArchitecture('seed-cnn');
  const ref: ExplainModel = { model, metadata: testMetadata('seed', 128) };
  const dir = path.join(data.dir, 'test-dev', 'NORMAL');
  const file = path.join(dir, readdirSync(dir).sort()[0]);
  const original = await decodeImage(file);
  const r = await gradCam(ref, file);
  assert.equal(r.layer, 'conv4');
  assert.deepEqual(r.image, { width: original.width, height: original.height });
  for (const png of [await overlayPng(r, file, { opacity: 0.5, colormap: 'inferno' }), await heatmapPng(r)]) {
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', original.width, original.height]);
  }
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    await gradCam(ref, file);
    await gradCam(ref, file, { method: 'gradcam++', targetClass: 'PNEUMONIA', layer: 'conv3' });
  }
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  model.dispose();
});
