import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { buildArchitecture } from '../architectures/cnn.ts';
import { initEngine } from '../engine/backend.ts';
import { h5Ready } from '../interchange/h5-file.ts';
import { tempDir } from '../test-support.ts';
import type { FitOptions } from '../training/fit.ts';
import { buildTransferModel } from './backbone.ts';
import { cutModel } from './cut-model.ts';
import { firstLayerOfLastBlocks, paramCounts } from './freeze.ts';
import { extractFeatures, splitAtHead } from './feature-cache.ts';
import { fitTwoPhase } from './two-phase.ts';
import { buildVgg19, loadVgg19Weights } from './vgg19.ts';

const tmp = tempDir();
after(() => tmp.cleanup());

const snapshot = (m: { layers: Array<{ name: string; getWeights(): tf.Tensor[] }> }, names: string[]) =>
  new Map(names.map((n) => [n, m.layers.find((l) => l.name === n)!.getWeights().map((t) => Buffer.from((t.dataSync() as Float32Array).buffer).toString('base64'))]));

test('MobileNetV2 backbone loads from the nsfwjs package with the expected shapes', async () => {
  await initEngine({ backend: 'wasm' });
  const tm = await buildTransferModel({ base: 'mobilenetv2', inputSize: 96, resize: 'crop', seed: 1 });
  assert.deepEqual(tm.model.getLayer('out_relu').outputShape, [null, 3, 3, 1280]);
  assert.deepEqual(tm.model.outputs[0].shape, [null, 1]);
  assert.deepEqual(tm.input, { height: 96, width: 96, channels: 3, resize: 'crop', scaling: 'scale255' });
  assert.equal(tm.cutAt, 'out_relu');
  assert.ok(!tm.baseLayerNames.some((n) => n.startsWith('dense') || n.startsWith('head_')));
  const p = tf.tidy(() => (tm.model.predict(tf.fill([1, 96, 96, 3], 0.5)) as tf.Tensor).dataSync()[0]);
  assert.ok(p > 0 && p < 1);
  tm.model.dispose();
});

test('InceptionV3 backbone loads all six nsfwjs weight shards, defaults to 299 px and cuts at mixed10', async () => {
  await initEngine({ backend: 'wasm' });
  const full = await buildTransferModel({ base: 'inceptionv3', resize: 'crop', seed: 1 });
  assert.equal(full.input.height, 299);
  assert.equal(full.cutAt, 'mixed10');
  assert.deepEqual(full.model.getLayer('mixed10').outputShape, [null, 8, 8, 2048]);
  // Weights really came from the shards (not initialisers): the last BN's moving variance is not all ones.
  const bn = full.model.getLayer('batch_normalization_94').getWeights();
  const variance = bn[bn.length - 1].dataSync();
  full.model.dispose();
  assert.ok(variance.some((v) => Math.abs(v - 1) > 1e-3), 'moving variance still at its initial value');
  const tm = await buildTransferModel({ base: 'inceptionv3', inputSize: 75, resize: 'crop', seed: 1 });
  assert.deepEqual(tm.model.getLayer('mixed10').outputShape, [null, 1, 1, 2048]);
  assert.ok(tm.source.includes('InceptionV3'));
  // --unfreeze-last-blocks counts Inception blocks (ending at mixed0 … mixed10): the last 2 start right after mixed8.
  assert.equal(firstLayerOfLastBlocks(tm.model, tm.baseLayerNames, 2), tm.baseLayerNames[tm.baseLayerNames.indexOf('mixed8') + 1]);
  assert.throws(() => firstLayerOfLastBlocks(tm.model, tm.baseLayerNames, 12), /11 Inception blocks/);
  const p = tf.tidy(() => (tm.model.predict(tf.fill([1, 75, 75, 3], 0.5)) as tf.Tensor).dataSync()[0]);
  assert.ok(p > 0 && p < 1);
  tm.model.dispose();
});

test('two phases: frozen weights and BN moving statistics stay bit-identical; counts match', async () => {
  await initEngine({ backend: 'wasm' });
  const tm = await buildTransferModel({ base: 'mobilenetv2', inputSize: 32, resize: 'crop', seed: 1 });
  const { model, baseLayerNames: base } = tm;
  const bn = base.filter((n) => model.getLayer(n).getClassName() === 'BatchNormalization');
  const before = snapshot(model, base);
  const rnd = tf.randomUniform([12, 32, 32, 3], 0, 1, 'float32', 5).dataSync() as Float32Array;
  const px = Array.from({ length: 12 }, (_, i) => rnd.slice(i * 3072, (i + 1) * 3072));
  const labels = px.map((_, i) => i % 2);
  const o: FitOptions = { height: 32, width: 32, channels: 3, epochs: 1, batchSize: 4, learningRate: 1e-2, seed: 3, classWeights: [1, 1], augment: null, patience: 3, lrPatience: 3 };
  const lines: string[] = [];
  const head = snapshot(model, ['head_output']);
  // Phase 1 only first: the base must not move at all.
  const r1 = await fitTwoPhase(model, base, { pixels: px.slice(0, 8), labels: labels.slice(0, 8) }, { pixels: px.slice(8), labels: labels.slice(8) }, o, { freezeBase: true, fineTuneLr: 1e-4, fineTuneEpochs: 1 }, (l) => lines.push(l));
  assert.deepEqual(snapshot(model, base), before, 'frozen base changed in phase 1');
  assert.notDeepEqual(snapshot(model, ['head_output']), head, 'head did not train');
  assert.equal(r1.phases.length, 1);
  assert.equal(r1.phases[0].trainable, 1280 + 1);
  assert.equal(r1.phases[0].trainable + r1.phases[0].frozen, model.countParams());
  assert.match(lines[0], /phase 1 \(feature extraction, base frozen\): 1281 trainable, \d+ frozen parameters/);
  // Then both phases, unfreezing the last block (Conv_1 + Conv_1_bn + out_relu).
  const r = await fitTwoPhase(model, base, { pixels: px.slice(0, 8), labels: labels.slice(0, 8) }, { pixels: px.slice(8), labels: labels.slice(8) }, o, { freezeBase: true, unfreezeLastBlocks: 1, fineTuneLr: 1e-2, fineTuneEpochs: 1 }, (l) => lines.push(l));
  const fine = r.phases[1];
  assert.equal(fine.unfrozenFrom, 'Conv_1');
  assert.equal(fine.trainable, 1281 + 320 * 1280 + 2 * 1280);
  assert.equal(fine.trainable + fine.frozen, model.countParams());
  const frozen2 = base.slice(0, base.indexOf('Conv_1'));
  const after2 = snapshot(model, base);
  for (const n of frozen2) assert.deepEqual(after2.get(n), before.get(n), `frozen layer ${n} changed in phase 2`);
  for (const n of bn) assert.deepEqual(after2.get(n)!.slice(2), before.get(n)!.slice(2), `BN moving statistics of ${n} changed`);
  assert.deepEqual(r.history.map((h) => h.phase), [1, 2]);
  model.dispose();
});

test('cached features: the head trains on cached vectors, the base stays frozen, and head(features) equals the full model', async () => {
  await initEngine({ backend: 'wasm' });
  const tm = await buildTransferModel({ base: 'mobilenetv2', inputSize: 32, resize: 'crop', seed: 1 });
  const { model, baseLayerNames: base } = tm;
  const before = snapshot(model, base);
  const head = snapshot(model, ['head_output']);
  const rnd = tf.randomUniform([10, 32, 32, 3], 0, 1, 'float32', 7).dataSync() as Float32Array;
  const px = Array.from({ length: 10 }, (_, i) => rnd.slice(i * 3072, (i + 1) * 3072));
  const labels = px.map((_, i) => i % 2);
  const augment = { rotation: 10, shift: 0.05, zoom: 0.1, brightness: 0.05, contrast: 0.1, horizontalFlip: false };
  const o: FitOptions = { height: 32, width: 32, channels: 3, epochs: 2, batchSize: 4, learningRate: 1e-2, seed: 3, classWeights: [1, 1], augment, patience: 3, lrPatience: 3 };
  const lines: string[] = [];
  const r = await fitTwoPhase(model, base, { pixels: px.slice(0, 6), labels: labels.slice(0, 6) }, { pixels: px.slice(6), labels: labels.slice(6) }, o, { freezeBase: true, fineTuneLr: 1e-4, fineTuneEpochs: 1, featureViews: 3 }, (l) => lines.push(l));
  assert.ok(lines.some((l) => /cached 18 training feature vectors \(3 views per image\) and 4 selection ones/.test(l)), lines.join('\n'));
  assert.deepEqual(snapshot(model, base), before, 'frozen base changed');
  assert.notDeepEqual(snapshot(model, ['head_output']), head, 'head did not train');
  assert.equal(r.phases[0].trainable, 1281);
  const split = splitAtHead(model);
  const x = tf.tensor4d(rnd.slice(0, 2 * 3072), [2, 32, 32, 3]);
  const direct = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  const viaHead = tf.tidy(() => (split.head.predict(tf.reshape(split.features.predict(x) as tf.Tensor, [2, 1, 1, split.featureSize])) as tf.Tensor).dataSync());
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(direct[i] - viaHead[i]) < 1e-6);
  const before2 = tf.memory().numTensors;
  await extractFeatures(split.features, { pixels: px.slice(0, 2), labels: [0, 1] }, { height: 32, width: 32, channels: 3, views: 2, augment, seed: 1 });
  assert.equal(tf.memory().numTensors, before2, 'extractFeatures leaked tensors');
  x.dispose();
  model.dispose();
});

test('cutting a Sequential stored-style model at a named layer keeps its weights', async () => {
  await initEngine({ backend: 'wasm' });
  const src = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4, 8], denseUnits: 4, seed: 3 });
  const conv = src.layers.filter((l) => l.getClassName() === 'Conv2D').at(-1)!.name;
  const cut = await cutModel(src, conv, 48, 'test model');
  assert.deepEqual(cut.outputs[0].shape.slice(-1), [8]);
  assert.deepEqual(cut.getLayer(conv).getWeights()[0].dataSync(), src.getLayer(conv).getWeights()[0].dataSync());
  await assert.rejects(cutModel(src, 'nope', 48, 'test model'), /test model: no layer "nope" to cut at/);
  src.dispose();
  cut.dispose();
});

test('VGG19 weights load from a Keras weights-only h5 (generated, small)', async () => {
  await initEngine({ backend: 'wasm' });
  const file = path.join(tmp.dir, 'vgg19_small_notop.h5');
  const model = buildVgg19(32, 16);
  const lib = await h5Ready();
  const f = new lib.File(file, 'w');
  const expected = new Map<string, Float32Array[]>();
  f.create_attribute('layer_names', model.layers.map((l) => l.name));
  for (const layer of model.layers) {
    const g = f.create_group(layer.name);
    const w = layer.getWeights();
    if (!w.length) { g.create_attribute('weight_names', new Float64Array(0), [0], '<d'); continue; }
    const names = [`${layer.name}_W_1:0`, `${layer.name}_b_1:0`];
    g.create_attribute('weight_names', names);
    const arrays = w.map((t, i) => Float32Array.from({ length: t.size }, (_, k) => Math.sin(k + i + layer.name.length)));
    names.forEach((n, i) => g.create_dataset({ name: n, data: arrays[i], shape: w[i].shape, dtype: '<f' }));
    expected.set(layer.name, arrays);
  }
  f.close();
  await loadVgg19Weights(model, file);
  for (const [name, arrays] of expected) model.getLayer(name).getWeights().forEach((t, i) => assert.deepEqual(t.dataSync(), arrays[i], name));
  assert.deepEqual(model.outputs[0].shape, [null, 1, 1, 32]);
  assert.ok(paramCounts(model).trainable > 0);
  const bad = path.join(tmp.dir, 'other.h5');
  const g = new lib.File(bad, 'w');
  g.create_group('dense');
  g.close();
  await assert.rejects(loadVgg19Weights(model, bad), /other\.h5: no "block1_conv1" weights; this is not a Keras VGG19 weight file/);
  model.dispose();
});
