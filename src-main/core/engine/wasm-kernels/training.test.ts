import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { compare, randomArray, seededRandom, setupBackends } from './test-helpers.ts';
import { buildModel, trainingLoss, type Arch } from './test-models.ts';

before(setupBackends);

const SIZES: Record<Arch, number> = { plain: 46, batchnorm: 15, separable: 17 };

async function gradientsOn(backend: 'cpu' | 'wasm', arch: Arch, weights: Float32Array[], xs: Float32Array, ys: Float32Array, n: number) {
  await tf.setBackend(backend);
  const size = SIZES[arch];
  const model = buildModel(arch, size);
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(weights[i], w.shape)));
  const x = tf.tensor4d(xs, [n, size, size, 1]);
  const y = tf.tensor2d(ys, [n, 1]);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => trainingLoss(model, x, y), vars);
  const out = { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array), names: vars.map((v) => v.name) };
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  return out;
}

for (const arch of ['plain', 'batchnorm', 'separable'] as Arch[]) {
  test(`training step gradients match cpu: ${arch}`, async (t) => {
    await tf.setBackend('cpu');
    const proto = buildModel(arch, SIZES[arch]);
    const weights = proto.getWeights().map((w) => w.dataSync() as Float32Array);
    proto.dispose();
    const n = 3;
    const rand = seededRandom(42);
    const xs = randomArray(rand, n * SIZES[arch] * SIZES[arch]).map((v) => (v + 1) / 2);
    const ys = new Float32Array([0, 1, 1]);
    const cpu = await gradientsOn('cpu', arch, weights, xs, ys, n);
    const wasm = await gradientsOn('wasm', arch, weights, xs, ys, n);
    assert.ok(Math.abs(cpu.loss - wasm.loss) <= 1e-5 * Math.max(1, Math.abs(cpu.loss)), `loss ${wasm.loss} vs ${cpu.loss}`);
    let worst = 0;
    cpu.grads.forEach((g, i) => {
      const r = compare(wasm.grads[i], g);
      worst = Math.max(worst, r.maxRel);
      // Gradients go through several float32 kernels (conv, BN, pooling) summed in different orders.
      assert.ok(r.maxRel <= 1e-3, `${cpu.names[i]}: max rel err ${r.maxRel}`);
    });
    t.diagnostic(`${arch}: ${cpu.grads.length} gradients, worst max rel err ${worst.toExponential(2)}`);
  });
}

test('warm adam training steps on wasm leak no tensors or wasm data', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  for (const arch of ['plain', 'batchnorm', 'separable'] as Arch[]) {
    const size = SIZES[arch];
    const model = buildModel(arch, size);
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
    const rand = seededRandom(3);
    const x = tf.tensor4d(randomArray(rand, 4 * size * size), [4, size, size, 1]);
    const y = tf.tensor2d([0, 1, 0, 1], [4, 1]);
    await model.trainOnBatch(x, y); // warm: creates optimizer slots
    const t0 = tf.memory().numTensors;
    const d0 = backend.numDataIds();
    for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
    assert.equal(tf.memory().numTensors, t0, `${arch}: tensors`);
    assert.equal(backend.numDataIds(), d0, `${arch}: wasm data ids`);
    // optimizer.minimize path as well
    const opt = tf.train.adam(1e-3);
    opt.minimize(() => trainingLoss(model, x, y));
    const t1 = tf.memory().numTensors;
    const d1 = backend.numDataIds();
    opt.minimize(() => trainingLoss(model, x, y));
    assert.equal(tf.memory().numTensors, t1, `${arch}: tensors (minimize)`);
    assert.equal(backend.numDataIds(), d1, `${arch}: wasm data ids (minimize)`);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  }
});
