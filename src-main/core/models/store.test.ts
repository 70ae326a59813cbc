import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../engine/backend.ts';
import { saveTinyModel, tempDir } from '../test-support.ts';
import { buildArchitecture } from '../architectures/cnn.ts';
import { listModels, loadStoredModel, readMetadata, resolveModel, saveModel } from './store.ts';

const tmp = tempDir();
const modelsDir = path.join(tmp.dir, 'models');
before(async () => {
  await initEngine({ backend: 'wasm' });
});
after(() => tmp.cleanup());

test('a saved model lists, resolves by id and loads with the same predictions', async () => {
  const md = await saveTinyModel(path.join(modelsDir, 'tiny'));
  assert.match(md.weightsSha256, /^[0-9a-f]{64}$/);
  const { models } = await listModels({ modelsDir });
  assert.ok(models.some((m) => m.metadata.id === 'tiny' && m.source === 'user'));
  const stored = await resolveModel('tiny', { modelsDir });
  const model = await loadStoredModel(stored);
  const x = tf.ones([1, 64, 64, 1]);
  const y = model.predict(x) as tf.Tensor;
  assert.equal(y.shape[1], 1);
  tf.dispose([x, y]);
  model.dispose();
});

test('model.json leaves out initializers and empty regularizers; an L2 regularizer stays and the model loads alike', async () => {
  const model = buildArchitecture('bn-cnn', { inputSize: 32, filters: [4, 8], denseUnits: 4, l2: 1e-3, seed: 5 });
  const dir = path.join(modelsDir, 'compact');
  await saveModel(model, {
    schemaVersion: 1, id: 'compact', name: 'compact', version: '1', created: new Date(0).toISOString(), architecture: 'bn-cnn',
    input: { height: 32, width: 32, channels: 1, resize: 'stretch', scaling: 'scale255' }, classNames: ['NORMAL', 'PNEUMONIA'],
    positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5, thresholdChosenBy: 'fixed for tests',
  }, dir);
  const json = await fsp.readFile(path.join(dir, 'model.json'), 'utf8');
  assert.doesNotMatch(json, /_initializer"/);
  assert.doesNotMatch(json, /"(kernel|bias|activity)_(regularizer|constraint)":null/);
  assert.match(json, /"kernel_regularizer":\{"class_name":"L1L2"/);
  const loaded = await loadStoredModel(await resolveModel(dir, { modelsDir }));
  const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 1);
  const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  assert.equal(loaded.losses.length, model.losses.length, 'the L2 penalties come back');
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
});

test('an unknown id names the available models and the folder', async () => {
  await assert.rejects(resolveModel('nope', { modelsDir }), /model "nope" not found \(available: .*tiny.*\).*cxr models/);
});

test('altered weights are refused with the folder named', async () => {
  const dir = path.join(modelsDir, 'tampered');
  await saveTinyModel(dir, 'tampered');
  const f = path.join(dir, 'weights.bin');
  const b = await fsp.readFile(f);
  b[10] ^= 0xff;
  await fsp.writeFile(f, b);
  await assert.rejects(loadStoredModel(await resolveModel('tampered', { modelsDir })), /weights do not match the sha256/);
});

test('invalid metadata is reported as a broken model, not a crash', async () => {
  const dir = path.join(modelsDir, 'broken');
  await saveTinyModel(dir, 'broken');
  const md = JSON.parse(await fsp.readFile(path.join(dir, 'metadata.json'), 'utf8'));
  md.threshold = 7;
  await fsp.writeFile(path.join(dir, 'metadata.json'), JSON.stringify(md));
  await assert.rejects(readMetadata(dir), /invalid model metadata at "threshold"/);
  const { broken } = await listModels({ modelsDir });
  assert.ok(broken.some((b) => b.dir === dir));
});

test('saving replaces a model folder atomically (no temp folders left behind)', async () => {
  await saveTinyModel(path.join(modelsDir, 'tiny'));
  const names = await fsp.readdir(modelsDir);
  assert.ok(!names.some((n) => n.endsWith('.tmp') || n.endsWith('.old')), names.join(','));
});

test('metadata that does not match the schema is refused with the folder and the field named, nothing written', async () => {
  const dir = path.join(modelsDir, 'nan');
  const model = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4, 8], denseUnits: 4, seed: 3 });
  const md = {
    schemaVersion: 1 as const, id: 'nan', name: 'nan', version: '1', created: new Date(0).toISOString(), architecture: 'gap-cnn',
    input: { height: 64, width: 64, channels: 1 as const, resize: 'stretch' as const, scaling: 'scale255' as const }, classNames: ['NORMAL', 'PNEUMONIA'],
    positiveClass: 'PNEUMONIA', output: 'sigmoid' as const, threshold: 0.5, thresholdChosenBy: 'fixed',
    training: { command: 'x', dataRoot: '/d', counts: {}, seed: 1, epochs: 1, bestEpoch: 1, backend: 'wasm' as const, durationSeconds: 1, hyperparameters: {}, history: [{ epoch: 1, loss: NaN }] },
  };
  await assert.rejects(saveModel(model, md, dir), (e: Error) => e.message === `${dir}: model not saved: its metadata is invalid at "training.history.0.loss": Invalid input: expected number, received NaN`);
  model.dispose();
  await assert.rejects(fsp.stat(dir), /ENOENT/);
});
