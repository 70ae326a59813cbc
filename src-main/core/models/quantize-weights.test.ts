import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildArchitecture } from '../architectures/cnn.ts';
import { initEngine } from '../engine/backend.ts';
import { tempDir } from '../test-support.ts';
import { quantizeWeightData, roundWeightsTo } from './quantize-weights.ts';
import { loadStoredModel, readMetadata, saveModel } from './store.ts';
import { renderModelCard } from './model-card.ts';

const tmp = tempDir();
after(() => tmp.cleanup());
before(() => initEngine({ backend: 'wasm' }));

const f32 = (values: number[]) => new Float32Array(values).buffer;

test('kernels become uint8 with their own affine map, as tfjs decodes them; vectors stay float32 byte for byte', () => {
  const kernel = Array.from({ length: 12 }, (_, i) => Math.sin(i) * 0.3);
  const bias = [0.123456789, -2];
  const specs: tf.io.WeightsManifestEntry[] = [
    { name: 'k', shape: [3, 4], dtype: 'float32' },
    { name: 'b', shape: [2], dtype: 'float32' },
  ];
  const data = new Uint8Array([...new Uint8Array(f32(kernel)), ...new Uint8Array(f32(bias))]).buffer;
  const { specs: out, data: packed, stats } = quantizeWeightData(specs, data, 'uint8');
  assert.equal(packed.byteLength, 12 + 8);
  assert.equal(stats.quantizedTensors, 1);
  assert.deepEqual(out[0].quantization?.dtype, 'uint8');
  assert.equal(out[1].quantization, undefined);
  const decoded = tf.io.decodeWeights(packed, out);
  const k = decoded.k.dataSync();
  const step = (Math.max(...kernel) - Math.min(...kernel)) / 255;
  for (let i = 0; i < kernel.length; i++) assert.ok(Math.abs(k[i] - kernel[i]) <= step / 2 + 1e-7, `weight ${i}: ${k[i]} vs ${kernel[i]}`);
  assert.ok(stats.maxAbsError <= step / 2 + 1e-7 && stats.maxAbsError > 0);
  assert.deepEqual(Array.from(decoded.b.dataSync()), Array.from(new Float32Array(bias)), 'biases are not touched');
  // The extremes are exact, and quantising decoded values again gives the same values back.
  assert.ok(Math.abs(Math.min(...k) - Math.min(...kernel)) < 1e-7 && Math.abs(Math.max(...k) - Math.max(...kernel)) < 1e-6);
  const again = quantizeWeightData([specs[0]], new Float32Array(k).buffer, 'uint8');
  const k2 = tf.io.decodeWeights(again.data, again.specs).k.dataSync();
  for (let i = 0; i < k.length; i++) assert.ok(Math.abs(k2[i] - k[i]) < 1e-6);
  for (const t of [...Object.values(decoded)]) t.dispose();
});

test('uint16 halves the kernels and is finer; a constant kernel and float32 storage pass through', () => {
  const kernel = Array.from({ length: 8 }, (_, i) => i / 7);
  const specs: tf.io.WeightsManifestEntry[] = [{ name: 'k', shape: [2, 4], dtype: 'float32' }, { name: 'c', shape: [2, 2], dtype: 'float32' }];
  const data = new Uint8Array([...new Uint8Array(f32(kernel)), ...new Uint8Array(f32([0.5, 0.5, 0.5, 0.5]))]).buffer;
  const q = quantizeWeightData(specs, data, 'uint16');
  assert.equal(q.data.byteLength, 16 + 8);
  const d = tf.io.decodeWeights(q.data, q.specs);
  assert.ok(q.stats.maxAbsError < 1 / 65535);
  assert.deepEqual(Array.from(d.c.dataSync()), [0.5, 0.5, 0.5, 0.5]);
  assert.equal(quantizeWeightData(specs, data, 'float32').data, data);
  assert.throws(() => quantizeWeightData(specs, data.slice(0, 10), 'uint8'), /shorter than its manifest/);
  for (const t of Object.values(d)) t.dispose();
});

test('mixed storage keeps a kernel in 8 bits when that loses ≤ 0.5 % of it, else 16 bits; rounding in memory agrees with the files', () => {
  // Smooth values: 8 bits lose ~0.1 %. One outlier stretches the grid: the kernel loses ~1 %.
  const smooth = Array.from({ length: 64 }, (_, i) => Math.sin(i / 3));
  const outlier = Array.from({ length: 64 }, (_, i) => (i === 0 ? 0.1 : 0.01 * Math.cos(i * 1.7)));
  const specs: tf.io.WeightsManifestEntry[] = [{ name: 's', shape: [8, 8], dtype: 'float32' }, { name: 'o', shape: [8, 8], dtype: 'float32' }];
  const data = new Uint8Array([...new Uint8Array(f32(smooth)), ...new Uint8Array(f32(outlier))]).buffer;
  const q = quantizeWeightData(specs, data, 'mixed');
  assert.deepEqual(q.specs.map((s) => s.quantization?.dtype), ['uint8', 'uint16']);
  assert.equal(q.stats.uint16Tensors, 1);
  assert.equal(q.data.byteLength, 64 + 128);
  const d = tf.io.decodeWeights(q.data, q.specs);
  const o = d.o.dataSync();
  const rel = Math.sqrt(outlier.reduce((e, v, i) => e + (o[i] - v) ** 2, 0) / outlier.reduce((e, v) => e + v * v, 0));
  assert.ok(rel < 1e-4, `16-bit kernel relative error ${rel}`);
  // The same choice in memory (what cxr ensemble and cxr quantize score before saving), and saving the rounded
  // values again picks the same storage: 8-bit values are on the 8-bit grid, 16-bit ones are not.
  const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 8, useBias: false }), tfl.layers.dense({ units: 8, useBias: false })] });
  model.layers[0].setWeights([tf.tensor(smooth, [8, 8])]);
  model.layers[1].setWeights([tf.tensor(outlier, [8, 8])]);
  const stats = roundWeightsTo(model, 'mixed');
  assert.equal(stats.uint16Tensors, 1);
  assert.equal(stats.bytesAfter, 64 + 128);
  const rounded = model.weights.map((w) => w.read().dataSync() as Float32Array);
  const again = quantizeWeightData(specs, new Uint8Array([...new Uint8Array(rounded[0].buffer.slice(0)), ...new Uint8Array(rounded[1].buffer.slice(0))]).buffer, 'mixed');
  assert.deepEqual(again.specs.map((s) => s.quantization?.dtype), ['uint8', 'uint16']);
  model.dispose();
  for (const t of Object.values(d)) t.dispose();
});

test('a model saved with uint8 weights is ≈4× smaller, loads with any tfjs loader, and predicts what the rounded model predicts', async () => {
  const model = buildArchitecture('bn-cnn', { inputSize: 64, filters: [8, 16], denseUnits: 8, seed: 5 });
  const x = tf.randomUniform([3, 64, 64, 1], 0, 1, 'float32', 9);
  const floatOut = (model.predict(x) as tf.Tensor);
  const before = tf.memory().numTensors;
  const stats = roundWeightsTo(model, 'uint8');
  assert.equal(tf.memory().numTensors, before, 'rounding leaks no tensors');
  assert.ok(stats.quantizedTensors >= 3 && stats.bytesAfter < stats.bytesBefore / 2);
  const roundedOut = model.predict(x) as tf.Tensor;
  const md = await saveModel(model, {
    schemaVersion: 1, id: 'q8', name: 'q8', version: '1', created: new Date(0).toISOString(), architecture: 'bn-cnn',
    input: { height: 64, width: 64, channels: 1, resize: 'stretch', scaling: 'scale255' }, classNames: ['NORMAL', 'PNEUMONIA'],
    positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5, thresholdChosenBy: 'fixed for tests', weightStorage: { dtype: 'uint8', maxAbsError: stats.maxAbsError },
  }, path.join(tmp.dir, 'q8'));
  assert.equal(md.weightStorage?.dtype, 'uint8');
  assert.equal(md.weightStorage?.quantizedTensors, stats.quantizedTensors);
  assert.equal(md.weightStorage?.weightBytes, statSync(path.join(tmp.dir, 'q8', 'weights.bin')).size);
  assert.equal((await readMetadata(path.join(tmp.dir, 'q8'))).weightStorage?.dtype, 'uint8');
  const manifest = JSON.parse(readFileSync(path.join(tmp.dir, 'q8', 'model.json'), 'utf8')).weightsManifest[0].weights as tf.io.WeightsManifestEntry[];
  assert.ok(manifest.some((w) => w.quantization?.dtype === 'uint8'));
  assert.match(renderModelCard(md), /Weights stored as 8-bit integers: \d+ kernels/);
  const loaded = await loadStoredModel({ dir: path.join(tmp.dir, 'q8'), metadata: md, source: 'user' });
  const loadedOut = loaded.predict(x) as tf.Tensor;
  const [a, b, c] = [floatOut.dataSync(), roundedOut.dataSync(), loadedOut.dataSync()];
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(b[i] - c[i]) < 1e-5, `stored model ${c[i]} vs rounded in memory ${b[i]}`);
    assert.ok(Math.abs(a[i] - b[i]) < 0.05, `uint8 moved a prediction from ${a[i]} to ${b[i]}`);
  }
  tf.dispose([x, floatOut, roundedOut, loadedOut]);
  model.dispose();
  loaded.dispose();
});
