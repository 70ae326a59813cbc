import assert from 'node:assert/strict';
import { promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildArchitecture } from '../architectures/cnn.ts';
import { initEngine } from '../engine/backend.ts';
import { realData, tempDir } from '../test-support.ts';
import { layerActivations, spatialLayers } from './activations.ts';
import type { ExplainModel } from './explain-model.ts';
import { gradCam } from './gradcam.ts';
import { nestedModel, skipModel, testMetadata } from './test-models.ts';

const data = realData();
const tmp = tempDir('cxr-explain-');
before(async () => {
  await initEngine({ backend: 'wasm' });
});
after(() => tmp.cleanup());

function firstImage(cls: string): string {
  const dir = path.join(data.dir, 'test-dev', cls);
  return path.join(dir, readdirSync(dir).sort()[0]);
}

function randomImage(n: number, seed = 3): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n * n }, () => (s = (s * 16807) % 2147483647) / 2147483647);
}

/** Checks every activation against a one-output model on the same graph tensor, run directly. */
function assertMatchesDirect(ref: ExplainModel, x: Float32Array, maps: Awaited<ReturnType<typeof layerActivations>>['layers'], direct: (name: string) => tfl.SymbolicTensor, inputs = ref.model.inputs): void {
  const n = ref.metadata.input.height;
  for (const m of maps) {
    const single = tfl.model({ inputs, outputs: direct(m.layer) });
    const want = tf.tidy(() => (single.predict(tf.tensor4d(x, [1, n, n, 1])) as tf.Tensor).dataSync());
    const [h, w, c] = m.shape;
    assert.equal(want.length, h * w * c, m.layer);
    for (let k = 0; k < c; k++) {
      const step = (m.max[k] - m.min[k]) / 255;
      for (let p = 0; p < h * w; p++) {
        const got = m.min[k] + m.maps[k * h * w + p] * step;
        assert.ok(Math.abs(got - want[p * c + k]) <= step / 2 + 1e-4, `${m.layer} ch ${k} px ${p}: ${got} vs ${want[p * c + k]}`);
      }
    }
  }
}

test('seed-cnn on a real X-ray: one map per spatial layer, all channels, no tensor leak, fast', { skip: data.skip }, async () => {
  const model = buildArchitecture('seed-cnn');
  const ref: ExplainModel = { model, metadata: testMetadata('seed', 128) };
  const image = firstImage('PNEUMONIA');
  const expected = model.layers.filter((l) => (l.outputShape as number[]).length === 4);
  const r = await layerActivations(ref, image);
  assert.deepEqual(r.layers.map((l) => l.layer), expected.map((l) => l.name));
  for (const [i, l] of r.layers.entries()) {
    const shape = (expected[i].outputShape as number[]).slice(1);
    assert.deepEqual(l.shape, shape);
    assert.equal(l.maps.length, shape[0] * shape[1] * shape[2]);
    assert.equal(l.min.length, shape[2]);
  }
  assert.equal(r.layers[0].shape[2], 32);
  assert.ok(r.probability > 0 && r.probability < 1);
  const before = tf.memory().numTensors;
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await layerActivations(ref, image);
    await gradCam(ref, image);
    best = Math.min(best, performance.now() - t0);
  }
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  console.log(`# activations + Grad-CAM, seed-cnn 128×128, wasm, warm: ${best.toFixed(0)} ms (best of 3, incl. decoding)`);
  model.dispose();
});

test('a Functional model with a skip connection: every activation equals the layer output run directly', async () => {
  const model = skipModel(32);
  const ref: ExplainModel = { model, metadata: testMetadata('skip', 32) };
  const x = randomImage(32);
  const r = await layerActivations(ref, { data: x, originalWidth: 32, originalHeight: 32 });
  assert.deepEqual(r.layers.map((l) => l.layer), ['conv_a', 'conv_b', 'skip_add', 'conv_c', 'pool']);
  assertMatchesDirect(ref, x, r.layers, (name) => model.getLayer(name).output as tfl.SymbolicTensor);
  const subset = await layerActivations(ref, { data: x, originalWidth: 32, originalHeight: 32 }, { layers: ['skip_add'] });
  assert.deepEqual(subset.layers.map((l) => l.layer), ['skip_add']);
  assert.deepEqual(subset.layers[0].maps, r.layers[2].maps);
});

test('nested models are expanded ("outer/inner") and match the inner layers run directly', async () => {
  const { model, base } = nestedModel(32);
  const ref: ExplainModel = { model, metadata: testMetadata('nested', 32) };
  const x = randomImage(32, 11);
  const names = spatialLayers(model).map((l) => l.name);
  assert.deepEqual(names, ['base/base_conv1', 'base/base_pool', 'base/base_conv2', 'top_conv']);
  const r = await layerActivations(ref, { data: x, originalWidth: 32, originalHeight: 32 });
  const inner = r.layers.filter((l) => l.layer.startsWith('base/'));
  assertMatchesDirect(ref, x, inner, (name) => base.getLayer(name.slice('base/'.length)).getOutputAt(0) as tfl.SymbolicTensor, base.inputs);
  const top = r.layers.filter((l) => l.layer === 'top_conv');
  assertMatchesDirect(ref, x, top, (name) => model.getLayer(name).getOutputAt(0) as tfl.SymbolicTensor);
  const cam = await gradCam(ref, { data: x, originalWidth: 32, originalHeight: 32 }, { layer: 'base_conv2' });
  assert.equal(cam.layer, 'base/base_conv2');
  assert.equal(cam.cam.length, cam.width * cam.height);
  assert.ok(cam.cam.every(Number.isFinite));
});

test('clear errors: unknown layer, non-spatial layer, model without spatial layers, corrupt image', async () => {
  const model = skipModel(32);
  const ref: ExplainModel = { model, metadata: testMetadata('skip', 32) };
  const img = { data: randomImage(32), originalWidth: 32, originalHeight: 32 };
  await assert.rejects(layerActivations(ref, img, { layers: ['nope'] }), /has no layer "nope"; layers with spatial maps: conv_a, conv_b/);
  await assert.rejects(layerActivations(ref, img, { layers: ['out'] }), /outputs \[1\], not a spatial map/);
  const dense = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [32, 32, 1] }), tfl.layers.dense({ units: 1, activation: 'sigmoid' })] });
  const dref: ExplainModel = { model: dense, metadata: testMetadata('dense-only', 32) };
  await assert.rejects(layerActivations(dref, img), /model "dense-only" has no layer with a spatial output/);
  await assert.rejects(gradCam(dref, img), /model "dense-only" has no convolution layer .*Grad-CAM needs one/);
  const bad = path.join(tmp.dir, 'broken.png');
  await fsp.writeFile(bad, Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png'));
  await assert.rejects(layerActivations(ref, bad), (e: Error) => e.message.startsWith('broken.png: ') && /re-export|damaged|truncated|not an image/.test(e.message));
  await assert.rejects(gradCam(ref, bad), /broken\.png: /);
});
