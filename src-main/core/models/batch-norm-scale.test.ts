import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../engine/backend.ts';
import { tempDir } from '../test-support.ts';
import { withBatchNormScale } from './batch-norm-scale.ts';
import { loadLayersModelFromDir, writeLayersModelToDir } from './tfjs-files.ts';

const tmp = tempDir();
after(() => tmp.cleanup());

/** conv → BN(scale: false, as Keras' InceptionV3 has them) → ReLU → GAP → dense(sigmoid). */
function scaleLessModel(): tfl.LayersModel {
  const x = tfl.input({ shape: [8, 8, 1], name: 'image' });
  let y = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), name: 'conv' }).apply(x) as tfl.SymbolicTensor;
  y = tfl.layers.batchNormalization({ scale: false, name: 'bn' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.activation({ activation: 'relu', name: 'relu' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }), name: 'out' }).apply(y) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: x, outputs: y });
  const bn = m.getLayer('bn');
  bn.setWeights([tf.tensor1d([0.1, -0.2, 0.3]), tf.tensor1d([0.05, 0, -0.05]), tf.tensor1d([0.5, 1.5, 2])]); // beta, moving mean, moving variance
  return m;
}

const gradNorm = (m: tfl.LayersModel, x: tf.Tensor) => tf.tidy(() => tf.sum(tf.abs(tf.grad((v: tf.Tensor) => tf.sum(m.apply(v, { training: false }) as tf.Tensor))(x))).dataSync()[0]);

test('a BatchNorm layer without scale gets a scale of ones on loading: same outputs, gradients work, files untouched', async () => {
  await initEngine({ backend: 'wasm' });
  const original = scaleLessModel();
  const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 3);
  // The TensorFlow.js bug this works around (tensorflow/tfjs#2868): no gradient through a scale-less BN.
  assert.throws(() => gradNorm(original, x), /dtype|undefined/);
  const dir = path.join(tmp.dir, 'bn-model');
  mkdirSync(dir);
  await writeLayersModelToDir(original, dir);
  const before = readFileSync(path.join(dir, 'model.json'), 'utf8');
  const { model } = await loadLayersModelFromDir(dir);
  assert.equal(readFileSync(path.join(dir, 'model.json'), 'utf8'), before, 'model.json rewritten on disk');
  assert.equal((model.getLayer('bn').getConfig() as { scale: boolean }).scale, true);
  const [a, b] = [original, model].map((m) => (m.predict(x) as tf.Tensor).dataSync());
  assert.deepEqual(Array.from(b), Array.from(a));
  assert.ok(gradNorm(model, x) > 0);
  const n = tf.memory().numTensors;
  gradNorm(model, x);
  assert.equal(tf.memory().numTensors, n, 'tensors leaked');
  tf.dispose(x);
  original.dispose();
  model.dispose();
});

test('artifacts without a scale-less BatchNorm come back as the same object', () => {
  const artifacts: tf.io.ModelArtifacts = { modelTopology: { class_name: 'Model', config: { layers: [{ class_name: 'BatchNormalization', config: { name: 'bn', scale: true } }] } }, weightSpecs: [], weightData: new ArrayBuffer(0) };
  assert.equal(withBatchNormScale(artifacts), artifacts);
});
