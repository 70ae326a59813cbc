import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import type { InputSpec } from '../../../src-shared/types.ts';
import { ARCHITECTURES, buildArchitecture } from '../architectures/cnn.ts';
import { initEngine } from '../engine/backend.ts';
import { readMetadata } from '../models/store.ts';
import { loadLayersModelFromDir } from '../models/tfjs-files.ts';
import { repoRoot } from '../models/paths.ts';
import { realData } from '../test-support.ts';
import { convertToOnnx } from './convert-model.ts';
import { OnnxConversionError } from './layer-context.ts';
import { checkParity, imageBatch } from './onnx-parity.ts';
import { functionalModel, importedStyleModel, randomizeBatchNorm, spec } from './test-models.ts';

const data = realData();
const testDev = path.join(data.dir, 'test-dev');
before(async () => {
  await initEngine({ backend: 'wasm' });
});

async function parity(model: tfl.LayersModel, s: InputSpec, images = 6): Promise<number> {
  const r = await checkParity(model, convertToOnnx(model), s, await imageBatch(testDev, s, images), 2);
  assert.ok(r.ok, `max |diff| ${r.maxAbsDiff} > 1e-4`);
  return r.maxAbsDiff;
}

for (const name of ARCHITECTURES) {
  test(`${name} (small, random weights) matches TensorFlow.js on real X-rays`, { skip: data.skip }, async () => {
    const m = buildArchitecture(name, { inputSize: 64, filters: name === 'seed-cnn' ? [8, 16, 16] : [8, 16, 16], denseUnits: 16, seed: 5 });
    randomizeBatchNorm(m);
    await parity(m, spec(64, 1));
    m.dispose();
  });
}

test('a Functional model with Add, Concatenate, a nested Sequential and most layer classes matches', { skip: data.skip }, async () => {
  const m = functionalModel();
  await parity(m, spec(48, 3));
  m.dispose();
});

test('BatchNormalization in inference mode, custom layers and separable convs match', { skip: data.skip }, async () => {
  const m = importedStyleModel();
  await parity(m, spec(40, 1));
  m.dispose();
});

const cnn150 = path.join(data.dir, 'models', 'tfjs-cnn150-gray');
test('the real tfjs fixture tfjs-cnn150-gray matches', { skip: data.skip || (existsSync(path.join(cnn150, 'model.json')) ? false : `fixture missing: ${cnn150}`) }, async () => {
  const { model } = await loadLayersModelFromDir(cnn150);
  await parity(model, spec(150, 1), 8);
  model.dispose();
});

const shipped = path.join(repoRoot(), 'models', 'default');
test('the shipped default model matches', { skip: data.skip || (existsSync(path.join(shipped, 'metadata.json')) ? false : `shipped model missing at ${shipped}`) }, async () => {
  const md = await readMetadata(shipped);
  const { model } = await loadLayersModelFromDir(shipped);
  await parity(model, md.input, 8);
  model.dispose();
});

test('an unsupported layer is refused naming its class and the layer', () => {
  const m = tfl.sequential({ name: 'unsupported' });
  m.add(tfl.layers.conv2d({ inputShape: [16, 16, 1], filters: 2, kernelSize: 3, name: 'ok_conv' }));
  m.add(tfl.layers.upSampling2d({ size: [2, 2], name: 'grow' }));
  assert.throws(() => convertToOnnx(m), (e: Error) => e instanceof OnnxConversionError && /layer "grow" \(UpSampling2D\): no ONNX conversion/.test(e.message));
  m.dispose();
});
