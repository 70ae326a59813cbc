// End to end: `cxr import` / `cxr summary` on real third-party models and on Keras files written here.
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { EvaluationSummary } from '../src-shared/types.ts';
import type { ModelSummary } from '../src-shared/model-summary.ts';
import { initEngine } from '../src-main/core/engine/backend.ts';
import { importModel } from '../src-main/core/interchange/import-model.ts';
import { fixtureKeras2Weights, fixtureKeras3Vars, fixtureKerasConfig, fixtureReference } from '../src-main/core/interchange/keras-fixtures.ts';
import { writeKeras2H5, writeKeras3Zip } from '../src-main/core/interchange/keras-writer.ts';
import { readNpy } from '../src-main/core/interchange/npy.ts';
import { realData, tempDir } from '../src-main/core/test-support.ts';
import { cxr } from './cli.ts';

const data = realData();
const models = path.join(data.dir, 'models');
const cnn150 = path.join(models, 'tfjs-cnn150-gray');
const k2dir = path.join(models, 'keras2-h5-cnn128-rgb');
const noCnn = existsSync(path.join(cnn150, 'model.json')) ? data.skip : `fixture missing: ${cnn150} (../shared/data/models); skipping`;
const noH5 = existsSync(path.join(k2dir, 'model.h5')) ? data.skip : `fixture missing: ${k2dir}/model.h5 (../shared/data/models); skipping`;
const tmp = tempDir('cxr-import-');
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
const fx2 = path.join(tmp.dir, 'fixture-keras2.h5');
const fx3 = path.join(tmp.dir, 'fixture-keras3.keras');
let ref: tfl.LayersModel;
const x = () => tf.randomUniform([4, 32, 32, 3], 0, 255, 'float32', 5);

before(async () => {
  await initEngine({});
  ref = fixtureReference();
  await writeKeras2H5(fx2, fixtureKerasConfig(2), fixtureKeras2Weights(ref));
  await writeKeras3Zip(fx3, fixtureKerasConfig(3), fixtureKeras3Vars(ref));
});
after(() => tmp.cleanup());

const maxDiff = (a: tf.Tensor, b: tf.Tensor | Float32Array) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b instanceof Float32Array ? tf.tensor(b, a.shape) : b))).dataSync()[0]);

test('tfjs layers model: import, evaluate on test-dev (AUC ≥ 0.90), summary matches countParams', { skip: noCnn }, async () => {
  const imp = await cxr(['import', cnn150, '--id', 'cnn150', '--preprocessing', 'scale255'], env);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /as "cnn150": 397,409 params, input 150×150×1, preprocessing scale255/);
  const ev = await cxr(['evaluate', path.join(data.dir, 'test-dev'), '--model', 'cnn150', '--json'], env);
  assert.equal(ev.code, 0, ev.stderr);
  const s = JSON.parse(ev.stdout) as EvaluationSummary;
  assert.equal(s.n, 80);
  assert.ok(s.auc.value >= 0.9, `AUC ${s.auc.value} < 0.90`);
  const sum = await cxr(['summary', 'cnn150', '--json'], env);
  assert.equal(sum.code, 0, sum.stderr);
  const j = JSON.parse(sum.stdout) as ModelSummary;
  const direct = await importModel(cnn150);
  assert.equal(j.totalParams, direct.model.countParams());
  assert.equal(j.layers.reduce((a, l) => a + l.params, 0), j.totalParams);
  assert.equal(j.trainableParams + j.nonTrainableParams, j.totalParams);
  assert.equal(j.nonTrainableParams, 256);
  assert.ok(j.weightsVerified);
  assert.deepEqual(j.layers.at(-1)?.outputShape, [null, 1]);
  direct.model.dispose();
  const text = await cxr(['summary', 'cnn150'], env);
  assert.match(text.stdout, /Total params: 397,409/);
});

test('Keras 2 .h5 reproduces the independent NumPy forward pass (features, logits, output within 1e-4)', { skip: noH5 }, async () => {
  const { model, format } = await importModel(path.join(k2dir, 'model.h5'));
  assert.equal(format, 'keras-h5');
  const input = await readNpy(path.join(k2dir, 'parity-input.npy'));
  const xin = tf.tensor(input.data, input.shape);
  const head = model.layers.at(-1)!;
  const features = tfl.model({ inputs: model.inputs, outputs: head.input as tfl.SymbolicTensor }).predict(xin) as tf.Tensor;
  const [w, b] = head.getWeights();
  const logits = tf.add(tf.matMul(features, w), b);
  const output = model.predict(xin) as tf.Tensor;
  assert.ok(maxDiff(features, (await readNpy(path.join(k2dir, 'parity-features.npy'))).data) <= 1e-4, 'features');
  assert.ok(maxDiff(logits, (await readNpy(path.join(k2dir, 'parity-logits.npy'))).data) <= 1e-4, 'logits');
  assert.ok(maxDiff(output, (await readNpy(path.join(k2dir, 'parity-output.npy'))).data) <= 1e-4, 'output');
  tf.dispose([xin, features, logits, output]);
  model.dispose();
  const imp = await cxr(['import', path.join(k2dir, 'model.h5'), '--id', 'k2', '--preprocessing', 'scale255'], env);
  assert.equal(imp.code, 0, imp.stderr);
  const cl = await cxr(['classify', path.join(data.dir, 'val', 'NORMAL'), '--model', 'k2', '--no-history'], env);
  assert.equal(cl.code, 0, cl.stderr);
  assert.match(cl.stderr, /8 classified, 0 failed/);
});

test('Functional model with nested Sequential, Rescaling and Random* layers: Keras 2 .h5 and Keras 3 .keras round trip', async () => {
  const xs = x();
  const gap = (m: tfl.LayersModel) => tfl.model({ inputs: m.inputs, outputs: m.getLayer('gap').output as tfl.SymbolicTensor }).predict(xs) as tf.Tensor;
  const [wantGap, wantOut] = [gap(ref), ref.predict(xs) as tf.Tensor];
  for (const [file, format] of [[fx2, 'keras-h5'], [fx3, 'keras-v3']] as const) {
    const m = await importModel(file);
    assert.equal(m.format, format);
    assert.deepEqual(m.rescaling, [{ scale: 1 / 255, offset: 0 }]);
    assert.ok(maxDiff(gap(m.model), wantGap) <= 1e-5, `${format} pooled features`);
    assert.ok(maxDiff(m.model.predict(xs) as tf.Tensor, wantOut) <= 1e-5, `${format} output`);
    assert.equal(m.model.countParams(), ref.countParams());
    m.model.dispose();
  }
  // Stored through the CLI (Rescaling 1/255 → preprocessing raw by default), reloaded, summarised.
  const imp = await cxr(['import', fx3, '--id', 'fx3'], env);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /preprocessing raw/);
  const sum = await cxr(['summary', 'fx3', '--json'], env);
  const j = JSON.parse(sum.stdout) as ModelSummary;
  assert.equal(j.totalParams, ref.countParams());
  assert.deepEqual(j.layers.filter((l) => l.className.startsWith('InferenceIdentity')).map((l) => l.className),
    ['InferenceIdentity(RandomFlip)', 'InferenceIdentity(RandomRotation)', 'InferenceIdentity(RandomZoom)']);
  assert.equal(j.layers.find((l) => l.name === 'features')?.params, 4 * 27 + 4 + 16);
  assert.deepEqual(j.layers.find((l) => l.name === 'add')?.inbound, ['features', 'conv_b']);
});

test('unsupported layers, damaged files, graph models and missing preprocessing give their documented errors', async () => {
  const lam = path.join(tmp.dir, 'lambda.h5');
  const extra = { cls: 'Lambda', name: 'lam', cfg: { function: ['4wEAAAAAAAAA', null, null], function_type: 'lambda' }, inputs: ['gap'] };
  await writeKeras2H5(lam, fixtureKerasConfig(2, extra), fixtureKeras2Weights(ref));
  let r = await cxr(['import', lam], env);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`${lam}: layer "lam" (Lambda) is not supported`), r.stderr);
  const bytes = await fsp.readFile(fx2);
  const cut = path.join(tmp.dir, 'truncated.keras.h5');
  await fsp.writeFile(cut, bytes.subarray(0, bytes.length >> 1));
  r = await cxr(['import', cut], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /truncated\.keras\.h5: .*(damaged|truncated|incomplete)/);
  const zip = path.join(tmp.dir, 'cut.h5'); // a zip despite its name: detected by content
  const zbytes = await fsp.readFile(fx3);
  await fsp.writeFile(zip, zbytes.subarray(0, zbytes.length - 200));
  r = await cxr(['import', zip], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cut\.h5: damaged or truncated zip/);
  const graph = path.join(tmp.dir, 'graph');
  await fsp.mkdir(graph);
  await fsp.writeFile(path.join(graph, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
  r = await cxr(['import', graph], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /graph models are not supported.*tensorflowjs_converter/);
  r = await cxr(['import', fx2, '--id', 'x', '--channels', '1'], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--channels 1 disagrees with the model's input channels 3/);
  assert.equal((await cxr(['import', fx3, '--id', 'dup'], env)).code, 0);
  r = await cxr(['import', fx3, '--id', 'dup'], env);
  assert.match(r.stderr, /already exists; choose another --id or add --force/);
  if (!noCnn) {
    r = await cxr(['import', cnn150, '--id', 'nopre'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no Rescaling layer, so its preprocessing is unknown; give --preprocessing .*cxr import --check/);
  }
});
