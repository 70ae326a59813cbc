import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import type { FamiliarityRecord, ModelMetadata } from '../../../src-shared/types.ts';
import { modelMetadataSchema } from '../../../src-shared/model-metadata-schema.ts';
import { initEngine } from '../engine/backend.ts';
import { tfjsPredictor } from '../inference/predictor.ts';
import { loadStoredModel, resolveModel } from '../models/store.ts';
import { saveTinyModel, tempDir } from '../test-support.ts';
import { cosineDistance, familiarityMeter, packVector, splitRows, unfamiliarDetail, unpackVector, withFeatureOutput } from './familiarity.ts';
import { fitFamiliarity, vectorLayers } from './fit-familiarity.ts';

const tmp = tempDir();
let md: ModelMetadata;
let model: tfl.LayersModel;
const images: string[] = [];

before(async () => {
  await initEngine({ backend: 'wasm' });
  md = await saveTinyModel(path.join(tmp.dir, 'models', 'tiny'));
  model = await loadStoredModel(await resolveModel('tiny', { modelsDir: path.join(tmp.dir, 'models') }));
  for (let i = 0; i < 6; i++) {
    const px = Buffer.alloc(96 * 80);
    for (let j = 0; j < px.length; j++) px[j] = (j * (i + 3) + i * 37) % 256;
    const file = path.join(tmp.dir, `img${i}.png`);
    await sharp(px, { raw: { width: 96, height: 80, channels: 1 } }).png().toFile(file);
    images.push(file);
  }
  await fsp.writeFile(path.join(tmp.dir, 'broken.png'), 'not an image');
});
after(() => {
  model.dispose();
  tmp.cleanup();
});

const record = (center: number[], limit: number): FamiliarityRecord => ({
  layer: 'gap', center: packVector(center), limit,
  fittedOn: { dataset: 'test', n: 1 }, limitFrom: { dataset: 'test', n: 1, largest: limit, margin: 1 }, chosenAt: new Date(0).toISOString(),
});

test('a packed vector comes back within half a step of each value, and a damaged one is refused', () => {
  const v = Array.from({ length: 300 }, (_, i) => Math.sin(i) * 3 + 1);
  const p = packVector(v);
  const back = unpackVector(p);
  assert.equal(back.length, 300);
  for (let i = 0; i < v.length; i++) assert.ok(Math.abs(back[i] - v[i]) <= p.step / 2 + 1e-6, `value ${i}`);
  assert.deepEqual([...unpackVector(packVector([2, 2, 2]))], [2, 2, 2]);
  assert.throws(() => packVector([]), /empty/);
  assert.throws(() => packVector([1, NaN]), /non-finite/);
  assert.throws(() => unpackVector({ ...p, length: 301 }), /holds 300 values, expected 301/);
});

test('cosine distance: 0 for the same direction, 1 at right angles, 2 opposite, 1 for a zero vector; reads from an offset', () => {
  const c = new Float32Array([1, 0]);
  assert.equal(cosineDistance([3, 0], c), 0);
  assert.equal(cosineDistance([0, 2], c), 1);
  assert.equal(cosineDistance([-1, 0], c), 2);
  assert.equal(cosineDistance([0, 0], c), 1);
  assert.equal(cosineDistance([9, 9, 5, 0], c, 2), 0);
});

test('splitRows separates the model output from the feature and measures each row', () => {
  const withCheck = { ...md, familiarity: record([1, 0, 0], 0.5) };
  const center = unpackVector(withCheck.familiarity.center);
  const raw = new Float32Array([0.9, 2, 0, 0, 0.1, 0, 5, 0]);
  const { outputs, width, distances } = splitRows(raw, 2, withCheck, center);
  assert.deepEqual([...outputs], [Math.fround(0.9), Math.fround(0.1)]);
  assert.equal(width, 1);
  assert.deepEqual([...distances!], [0, 1]);
  assert.throws(() => splitRows(raw.subarray(0, 6), 2, withCheck, center), /3 values per image, expected 4/);
  assert.equal(splitRows(raw, 2, md).distances, undefined);
});

test('unfamiliarDetail refuses only beyond the limit and says by how much', () => {
  const f = record([1], 0.3);
  assert.equal(unfamiliarDetail(f, 0.3, 'm'), undefined);
  assert.equal(unfamiliarDetail(undefined, 0.9, 'm'), undefined);
  assert.equal(unfamiliarDetail(f, 0.412, 'm'), 'distance 0.412 from the images model m was trained on, limit 0.300');
});

test('withFeatureOutput appends a vector layer to the output and names the layer it cannot use', () => {
  assert.throws(() => withFeatureOutput(model, 'nope'), /no layer "nope"/);
  assert.throws(() => withFeatureOutput(model, 'conv1'), /layer "conv1" gives shape \[batch, \d+, \d+, 4\], not one vector per image/);
  assert.deepEqual(vectorLayers(model, 1).map((l) => l.name), ['gap', 'dense', 'output']);
  const joined = withFeatureOutput(model, 'gap');
  assert.deepEqual(joined.outputs[0].shape, [null, 1 + 8]);
  const x = tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 5);
  const [own, both] = [model.predict(x) as tf.Tensor, joined.predict(x) as tf.Tensor];
  const a = own.dataSync();
  const b = both.dataSync();
  assert.ok(Math.abs(a[0] - b[0]) < 1e-6 && Math.abs(a[1] - b[9]) < 1e-6, 'the first column is the model output');
  tf.dispose([x, own, both]);
});

test('a predictor of a model with a check gives distances, consistent with the stored centre, and leaks no tensor', async () => {
  const withCheck = { ...md, familiarity: record([0.5, 0.1, 0.2, 0.3, 0.1, 0.4, 0.2, 0.6], 0.5) };
  const p = tfjsPredictor(model, withCheck);
  const batch = new Float32Array(2 * 64 * 64).map((_, i) => (i % 97) / 97);
  await p.predict(batch, 2);
  const before = tf.memory().numTensors;
  const s = await p.predict(batch, 2);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(s.probabilities.length, 2);
  assert.equal(s.distances!.length, 2);
  for (const d of s.distances!) assert.ok(d >= 0 && d <= 2);
  const one = familiarityMeter(model, withCheck)!(batch.subarray(0, 64 * 64));
  assert.ok(Math.abs(one - s.distances![0]) < 1e-6, 'familiarityMeter agrees with the predictor');
  assert.equal(tf.memory().numTensors, before);
  assert.equal(familiarityMeter(model, md), undefined);
  const plain = await tfjsPredictor(model, md).predict(batch, 2);
  assert.deepEqual([...plain.probabilities], [...s.probabilities]);
  assert.equal(plain.distances, undefined);
});

test('fitFamiliarity: centre from the fit images, limit = margin × the largest distance of the others; the same with tfjs and onnxruntime', async () => {
  const o = { layer: 'gap', fit: [...images.slice(0, 4), path.join(tmp.dir, 'broken.png')], fitDataset: 'fit', limitOn: images.slice(4), limitDataset: 'sel', margin: 1.2, batchSize: 3 };
  const ticks: number[] = [];
  const a = await fitFamiliarity(model, md, { ...o, engine: 'tfjs', onProgress: (d) => ticks.push(d) });
  assert.equal(a.engine, 'tfjs');
  assert.deepEqual(ticks, [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(a.skipped.map((s) => [path.basename(s.path), s.code]), [['broken.png', 'NOT_AN_IMAGE']]);
  assert.equal(a.record.fittedOn.n, 4);
  assert.equal(a.record.limitFrom.n, 2);
  assert.equal(a.record.limitFrom.largest, Math.max(...a.limitDistances));
  assert.ok(Math.abs(a.record.limit - 1.2 * a.record.limitFrom.largest) < 1e-12);
  assert.equal(modelMetadataSchema.safeParse({ ...md, familiarity: a.record }).success, true);
  const b = await fitFamiliarity(model, md, { ...o, engine: 'onnx' });
  assert.equal(b.engine.startsWith('onnxruntime'), true);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(a.limitDistances[i] - b.limitDistances[i]) < 1e-4, `distance ${i}: tfjs ${a.limitDistances[i]}, onnx ${b.limitDistances[i]}`);
  await assert.rejects(fitFamiliarity(model, md, { ...o, fit: [path.join(tmp.dir, 'broken.png')] }), /fit: no usable fit image/);
  await assert.rejects(fitFamiliarity(model, md, { ...o, margin: 0.9 }), /margin must be at least 1/);
});
