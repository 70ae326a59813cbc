// End to end: `cxr export MODEL --onnx`, `cxr classify --engine onnx|tfjs|auto`, and the history
// export next to them.
import assert from 'node:assert/strict';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelMetadata } from '../src-shared/types.ts';
import { buildArchitecture } from '../src-main/core/architectures/cnn.ts';
import { initEngine } from '../src-main/core/engine/backend.ts';
import { sha256Hex } from '../src-main/core/fs/atomic-write.ts';
import { saveModel } from '../src-main/core/models/store.ts';
import { imageBatch } from '../src-main/core/onnx/onnx-parity.ts';
import { openOrtSession } from '../src-main/core/onnx/ort-session.ts';
import { randomizeBatchNorm } from '../src-main/core/onnx/test-models.ts';
import { realData, tempDir } from '../src-main/core/test-support.ts';
import { cxr, parseCsvObjects, root } from './cli.ts';

const data = realData();
const testDev = path.join(data.dir, 'test-dev');
const tmp = tempDir('cxr-onnx-cli-');
const home = path.join(tmp.dir, 'home');
const shippedDir = path.join(tmp.dir, 'shipped');
const env = { CXR_HOME: home, CXR_SHIPPED_MODELS: shippedDir };
const shippedDefault = path.join(root, 'models', 'default');
after(() => tmp.cleanup());

type Meta = Omit<ModelMetadata, 'weightsSha256' | 'parameters'>;
function meta(id: string, calibration?: ModelMetadata['calibration']): Meta {
  return {
    schemaVersion: 1, id, name: `${id} (ONNX test)`, version: '1', created: new Date(0).toISOString(), architecture: 'bn-cnn',
    input: { height: 64, width: 64, channels: 1, resize: 'stretch', scaling: 'scale255' }, classNames: ['NORMAL', 'PNEUMONIA'],
    positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5, thresholdChosenBy: 'fixed for tests',
    ...(calibration ? { calibration } : {}),
  };
}

before(async () => {
  await initEngine({ backend: 'wasm' });
  // A user model with trained-looking BatchNorm statistics and a steep calibration (probabilities spread out).
  const m = buildArchitecture('bn-cnn', { inputSize: 64, filters: [8, 16, 16], denseUnits: 8, seed: 9 });
  randomizeBatchNorm(m);
  // Platt scaling centred on the median raw logit on test-dev, steep: both labels, probabilities spread out.
  let b = 0;
  if (!data.skip) {
    const batch = await imageBatch(testDev, meta('x').input, 80);
    const p = tf.tidy(() => (m.predict(tf.tensor4d(batch.data, [batch.n, 64, 64, 1])) as tf.Tensor).dataSync());
    const logits = [...p].map((v) => Math.log(v / (1 - v))).sort((x, y) => x - y);
    b = -40 * logits[logits.length >> 1];
  }
  await saveModel(m, meta('small', { method: 'platt', a: 40, b, fittedOn: 'synthetic', n: 80 }), path.join(home, 'models', 'small'));
  await saveModel(m, meta('shippedsmall'), path.join(shippedDir, 'shippedsmall'));
  m.dispose();
  // A model the converter cannot handle (UpSampling2D).
  const u = tfl.sequential({ name: 'unsupported' });
  u.add(tfl.layers.conv2d({ inputShape: [64, 64, 1], filters: 2, kernelSize: 3, name: 'conv' }));
  u.add(tfl.layers.upSampling2d({ size: [2, 2], name: 'grow' }));
  u.add(tfl.layers.globalAveragePooling2d({ name: 'gap' }));
  u.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', name: 'out' }));
  await saveModel(u, meta('upsample'), path.join(home, 'models', 'upsample'));
  u.dispose();
});

test('cxr export MODEL --onnx writes a checked ONNX file with its sha256 (user and shipped models)', { skip: data.skip }, async () => {
  const r = await cxr(['export', 'small', '--onnx'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /checked on 8 image\(s\) from .*test-dev: max \|onnxruntime − TensorFlow\.js\| = \S+ \(limit 1e-4\)/);
  const file = path.join(home, 'models', 'small', 'model.onnx');
  const bytes = await fsp.readFile(file);
  assert.equal(readFileSync(`${file}.sha256`, 'utf8'), `${sha256Hex(bytes)}  model.onnx\n`);
  const s = await openOrtSession(new Uint8Array(bytes), 2);
  const y = await s.run(new Float32Array(2 * 64 * 64).fill(0.5), [2, 64, 64, 1]);
  assert.deepEqual(y.dims, [2, 1]);
  await s.release();

  const refused = await cxr(['export', 'shippedsmall', '--onnx'], env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /shippedsmall is a shipped model .* pass --out FILE\.onnx/);
  const out = path.join(tmp.dir, 'exports', 'shipped.onnx');
  const ok = await cxr(['export', 'shippedsmall', '--onnx', '--out', out], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(existsSync(out) && existsSync(`${out}.sha256`));
  assert.ok(!existsSync(path.join(shippedDir, 'shippedsmall', 'model.onnx')), 'the shipped folder was written');

  const bad = await cxr(['export', 'upsample', '--onnx'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /layer "grow" \(UpSampling2D\)/);
});

async function classify(model: string, engine: string, extra: string[] = []) {
  const out = path.join(tmp.dir, `${model}-${engine}-${Math.random().toString(36).slice(2)}.csv`);
  const r = await cxr(['classify', testDev, '--model', model, '--engine', engine, '--out', out, ...extra], env);
  return { r, rows: r.code === 0 ? parseCsvObjects(readFileSync(out, 'utf8')) : [] };
}

function sameResults(a: Array<Record<string, string>>, b: Array<Record<string, string>>): void {
  assert.equal(a.length, 80);
  assert.equal(b.length, 80);
  const byPath = new Map(b.map((x) => [x.path, x]));
  for (const x of a) {
    const y = byPath.get(x.path)!;
    assert.ok(Math.abs(Number(x.probability) - Number(y.probability)) <= 1e-4, `${x.path}: ${x.probability} vs ${y.probability}`);
    if (Math.abs(Number(x.probability) - Number(x.threshold)) > 1e-4) assert.equal(x.label, y.label, x.path);
  }
}

test('cxr classify --engine onnx gives the labels of --engine tfjs (calibrated model), auto picks onnx, history export still works', { skip: data.skip }, async () => {
  const onnx = await classify('small', 'onnx');
  assert.equal(onnx.r.code, 0, onnx.r.stderr);
  assert.match(onnx.r.stderr, /engine onnxruntime-node 1\.30\.\d+ cpu, \d+ threads? \(--engine onnx, (converted to|cached) ONNX; loaded and checked by engine tfjs/);
  assert.ok(onnx.rows.every((x) => /^onnxruntime-node /.test(x.engine) && x.backend === 'wasm'));
  const tfjs = await classify('small', 'tfjs', ['--no-history']);
  assert.equal(tfjs.r.code, 0, tfjs.r.stderr);
  assert.match(tfjs.r.stderr, /engine tfjs 4\.\d+\.\d+ wasm SIMD, 1 thread \(--engine tfjs\)/);
  assert.ok(tfjs.rows.every((x) => /^tfjs /.test(x.engine)));
  sameResults(onnx.rows, tfjs.rows);
  const labels = new Set(tfjs.rows.map((x) => x.label));
  assert.equal(labels.size, 2, 'the calibrated test model should give both labels');
  const cached = (await fsp.readdir(path.join(home, 'onnx-cache'))).filter((f) => f.endsWith('.onnx'));
  assert.equal(cached.length, 1);

  const auto = await classify('small', 'auto', ['--no-history']);
  assert.equal(auto.r.code, 0, auto.r.stderr);
  assert.match(auto.r.stderr, /engine onnxruntime-node .*\(--engine auto, cached ONNX;/);

  const hist = path.join(tmp.dir, 'history.csv');
  const ex = await cxr(['export', '--format', 'csv', '--out', hist], env);
  assert.equal(ex.code, 0, ex.stderr);
  const rows = parseCsvObjects(readFileSync(hist, 'utf8'));
  assert.equal(rows.length, 80);
});

test('auto falls back to TensorFlow.js for a model ONNX cannot express; --engine onnx refuses it; bad --engine is a usage error', { skip: data.skip }, async () => {
  const auto = await classify('upsample', 'auto', ['--no-history']);
  assert.equal(auto.r.code, 0, auto.r.stderr);
  assert.match(auto.r.stderr, /engine tfjs .*\(--engine auto: onnx unavailable \(layer "grow" \(UpSampling2D\)/);
  const forced = await classify('upsample', 'onnx', ['--no-history']);
  assert.equal(forced.r.code, 1);
  assert.match(forced.r.stderr, /--engine onnx: cannot run model upsample in onnxruntime: layer "grow" \(UpSampling2D\).*use --engine tfjs/);
  const usage = await cxr(['classify', testDev, '--engine', 'gpu', '--no-history'], env);
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /unknown engine "gpu"; use auto, tfjs or onnx/);
});

test('the shipped default model: ONNX and TensorFlow.js agree on test-dev', { skip: data.skip || (existsSync(path.join(shippedDefault, 'metadata.json')) ? false : `shipped model missing at ${shippedDefault}`) }, async () => {
  const e = { CXR_HOME: home };
  const a = await cxr(['classify', testDev, '--engine', 'onnx', '--no-history', '--out', path.join(tmp.dir, 'd-onnx.csv')], e);
  assert.equal(a.code, 0, a.stderr);
  const b = await cxr(['classify', testDev, '--engine', 'tfjs', '--no-history', '--out', path.join(tmp.dir, 'd-tfjs.csv')], e);
  assert.equal(b.code, 0, b.stderr);
  sameResults(parseCsvObjects(readFileSync(path.join(tmp.dir, 'd-onnx.csv'), 'utf8')), parseCsvObjects(readFileSync(path.join(tmp.dir, 'd-tfjs.csv'), 'utf8')));
  const out = path.join(tmp.dir, 'default.onnx');
  const ex = await cxr(['export', 'default', '--onnx', '--out', out], e);
  assert.equal(ex.code, 0, ex.stderr);
});
