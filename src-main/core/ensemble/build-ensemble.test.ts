import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { initEngine } from '../engine/backend.ts';
import { buildEnsemble, ensembleInput, type EnsembleMember } from './build-ensemble.ts';

await initEngine({ backend: 'cpu' });

function meta(id: string, size: number, channels: 1 | 3, extra: Partial<ModelMetadata> = {}): ModelMetadata {
  return {
    schemaVersion: 1, id, name: id, version: '1', created: '2026-01-01T00:00:00Z', architecture: 'test',
    input: { height: size, width: size, channels, resize: 'crop', scaling: 'scale255' },
    classNames: ['NORMAL', 'PNEUMONIA'], positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5, thresholdChosenBy: 'test',
    weightsSha256: '0'.repeat(64), parameters: 0, ...extra,
  };
}

function rgbModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3] });
  const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }), name: 'conv' }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(conv) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(bn) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }), name: 'out' }).apply(gap) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

function greyModel(seed: number): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 3, kernelSize: 2, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }), name: 'conv' }));
  m.add(tfl.layers.flatten({ name: 'flat' }));
  m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: 'ones', name: 'out' }));
  return m;
}

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

test('the ensemble outputs σ(mean of member logits), each member fed its own size and channels, calibration folded in', async () => {
  const a: EnsembleMember = { model: rgbModel(1), metadata: meta('a', 8, 3) };
  const b: EnsembleMember = { model: greyModel(5), metadata: meta('b', 4, 1, { calibration: { method: 'platt', a: 2, b: -0.5, fittedOn: 'x', n: 10 } }) };
  const { model, input } = await buildEnsemble([a, b]);
  assert.deepEqual(input, a.metadata.input);
  const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 3);
  const got = (model.predict(x) as tf.Tensor).dataSync();
  const pa = (a.model.predict(x) as tf.Tensor).dataSync();
  const grey = tf.avgPool(tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true) as tf.Tensor4D, 2, 2, 'valid');
  const pb = (b.model.predict(grey) as tf.Tensor).dataSync();
  for (let i = 0; i < 3; i++) {
    const want = sigmoid((logit(pa[i]) + (2 * logit(pb[i]) - 0.5)) / 2);
    assert.ok(Math.abs(got[i] - want) < 1e-5, `image ${i}: ${got[i]} vs ${want}`);
  }
  // The members are untouched and a warm prediction leaks no tensors.
  assert.ok(Math.abs((a.model.predict(x) as tf.Tensor).dataSync()[0] - pa[0]) < 1e-7);
  tf.dispose(model.predict(x));
  const before = tf.memory().numTensors;
  tf.dispose(model.predict(x));
  assert.equal(tf.memory().numTensors, before);
});

test('an ensemble refuses members it cannot feed, naming the model and what to do', () => {
  const m = (id: string, size: number, extra: Partial<ModelMetadata> = {}): EnsembleMember => ({ model: null as never, metadata: meta(id, size, 1, extra) });
  assert.throws(() => ensembleInput([m('one', 8)]), /at least two/);
  assert.throws(() => ensembleInput([m('big', 9), m('small', 4)]), /"small" takes 4×4, which does not divide 9×9/);
  assert.throws(() => ensembleInput([m('a', 8), m('b', 4, { input: { height: 4, width: 4, channels: 1, resize: 'stretch', scaling: 'scale255' } })]), /"b" resizes by "stretch".*--resize crop/);
  assert.throws(() => ensembleInput([m('a', 8), m('soft', 4, { output: 'softmax' })]), /"soft" has a softmax output/);
  const eq = (id: string, size: number) => m(id, size, { input: { height: size, width: size, channels: 1, resize: 'crop', scaling: 'scale255', tone: 'equalize' } });
  assert.equal(ensembleInput([eq('e', 8), eq('f', 4)]).tone, 'equalize');
  assert.deepEqual(ensembleInput([m('a', 8), eq('e', 4)]).toneByChannel, ['none', 'equalize', 'none']);
  const nested = m('t', 8, { input: { height: 8, width: 8, channels: 3, resize: 'crop', scaling: 'scale255', toneByChannel: ['none', 'equalize', 'none'] } });
  assert.throws(() => ensembleInput([nested, m('b', 4)]), /model "t" is itself an ensemble of members with different tones; combine its members instead/);
});

test('members with different tones each read the grey channel of their own tone', async () => {
  const a: EnsembleMember = { model: rgbModel(1), metadata: meta('a', 8, 3) };
  const e: EnsembleMember = { model: greyModel(5), metadata: meta('e', 4, 1, { input: { height: 4, width: 4, channels: 1, resize: 'crop', scaling: 'scale255', tone: 'equalize' } }) };
  const { model, input } = await buildEnsemble([a, e]);
  assert.deepEqual(input, { height: 8, width: 8, channels: 3, resize: 'crop', scaling: 'scale255', toneByChannel: ['none', 'equalize', 'none'] });
  // Channels 0 and 2 hold the plain grey image, channel 1 the equalized one (here: any other values).
  const plain = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 3);
  const equalized = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 4);
  const x = tf.concat([plain, equalized, plain], -1);
  const got = (model.predict(x) as tf.Tensor).dataSync();
  const pa = (a.model.predict(tf.concat([plain, plain, plain], -1)) as tf.Tensor).dataSync();
  const pe = (e.model.predict(tf.avgPool(equalized as tf.Tensor4D, 2, 2, 'valid')) as tf.Tensor).dataSync();
  for (let i = 0; i < 2; i++) {
    const want = sigmoid((logit(pa[i]) + logit(pe[i])) / 2);
    assert.ok(Math.abs(got[i] - want) < 1e-5, `image ${i}: ${got[i]} vs ${want}`);
  }
  tf.dispose([plain, equalized, x]);
  model.dispose();
});

test('temperature calibration folds into an output layer without bias; a Platt offset there is refused', async () => {
  const noBias = () => {
    const m = tfl.sequential();
    m.add(tfl.layers.flatten({ inputShape: [4, 4, 1], name: 'flat' }));
    m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', useBias: false, kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }), name: 'out' }));
    return m;
  };
  const a: EnsembleMember = { model: rgbModel(2), metadata: meta('a', 8, 3) };
  const b: EnsembleMember = { model: noBias(), metadata: meta('t', 4, 1, { calibration: { method: 'temperature', temperature: 2, fittedOn: 'x', n: 10 } }) };
  const { model } = await buildEnsemble([a, b]);
  const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 4);
  const got = (model.predict(x) as tf.Tensor).dataSync();
  const pa = (a.model.predict(x) as tf.Tensor).dataSync();
  const grey = tf.avgPool(tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true) as tf.Tensor4D, 2, 2, 'valid');
  const pb = (b.model.predict(grey) as tf.Tensor).dataSync();
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(got[i] - sigmoid((logit(pa[i]) + logit(pb[i]) / 2) / 2)) < 1e-5);
  const platt: EnsembleMember = { model: noBias(), metadata: meta('p', 4, 1, { calibration: { method: 'platt', a: 1, b: 0.3, fittedOn: 'x', n: 10 } }) };
  await assert.rejects(buildEnsemble([a, platt]), /model "p" is Platt-calibrated but its output layer has no bias/);
});
