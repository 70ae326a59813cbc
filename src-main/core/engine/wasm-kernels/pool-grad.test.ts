import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { compare, randomArray, runOn, seededRandom, setupBackends } from './test-helpers.ts';
import { avgPoolGradConfig, maxPoolGradConfig } from './pool-grad.ts';

type Input = 'random' | 'relu' | 'repeated';
interface Case { n: number; h: number; w: number; c: number; f: [number, number]; s: [number, number]; pad: 'same' | 'valid' | number; input: Input }

const CASES: Case[] = [
  { n: 2, h: 8, w: 10, c: 3, f: [2, 2], s: [2, 2], pad: 'valid', input: 'random' },
  { n: 3, h: 9, w: 11, c: 5, f: [2, 2], s: [2, 2], pad: 'valid', input: 'relu' },
  { n: 2, h: 9, w: 10, c: 4, f: [3, 3], s: [2, 2], pad: 'same', input: 'random' },
  { n: 2, h: 7, w: 8, c: 6, f: [3, 3], s: [1, 1], pad: 'same', input: 'relu' },
  { n: 2, h: 7, w: 9, c: 3, f: [2, 2], s: [1, 1], pad: 'valid', input: 'repeated' },
  { n: 1, h: 11, w: 9, c: 2, f: [3, 2], s: [2, 1], pad: 'same', input: 'repeated' },
  { n: 2, h: 10, w: 7, c: 3, f: [3, 3], s: [2, 2], pad: 1, input: 'relu' },
  { n: 2, h: 6, w: 6, c: 67, f: [2, 2], s: [2, 2], pad: 'valid', input: 'relu' },
  { n: 4, h: 13, w: 12, c: 8, f: [2, 2], s: [2, 2], pad: 'same', input: 'repeated' },
  { n: 2, h: 9, w: 9, c: 4, f: [2, 2], s: [3, 3], pad: 'valid', input: 'random' },
];

function label(c: Case): string {
  return `n${c.n} ${c.h}x${c.w}x${c.c} f${c.f} s${c.s} pad=${c.pad} ${c.input}`;
}

/** Inputs with ties: ReLU output (many all-zero windows) or values on a coarse grid. */
function makeInput(rand: () => number, size: number, kind: Input): Float32Array {
  const v = randomArray(rand, size);
  if (kind === 'relu') return v.map((a) => Math.max(0, a - 0.3));
  if (kind === 'repeated') return v.map((a) => Math.round(a * 2) / 2);
  return v;
}

/** Same value, bit for bit up to the sign of zero; NaN equals NaN. */
function assertIdentical(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const same = actual[i] === expected[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]));
    if (!same) assert.fail(`element ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

async function checkBoth(x: { values: Float32Array; shape: number[] }, c: Pick<Case, 'f' | 's' | 'pad'>, rand: () => number): Promise<void> {
  const attrs = { filterSize: c.f, strides: c.s, pad: c.pad };
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], c.f, c.s, 1, c.pad);
  const dy = { values: randomArray(rand, info.outShape.reduce((a, b) => a * b)), shape: info.outShape };
  const output = await runOn('cpu', 'MaxPool', { x }, attrs);
  for (const kernel of ['MaxPoolGrad', 'AvgPoolGrad']) {
    const inputs: Record<string, { values: Float32Array; shape: number[] }> =
      kernel === 'MaxPoolGrad' ? { dy, input: x, output } : { dy, input: x };
    const got = await runOn('wasm', kernel, inputs, attrs);
    const ref = await runOn('cpu', kernel, inputs, attrs);
    assert.deepEqual(got.shape, x.shape);
    const r = compare(got.values, ref.values);
    assert.ok(r.ok, `${kernel}: max rel err ${r.maxRel}`);
    assertIdentical(got.values, ref.values);
  }
}

before(setupBackends);

test('MaxPoolGrad / AvgPoolGrad overrides are registered on wasm by default', () => {
  assert.equal(tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc, maxPoolGradConfig.kernelFunc);
  assert.equal(tf.getKernel('AvgPoolGrad', 'wasm')?.kernelFunc, avgPoolGradConfig.kernelFunc);
});

CASES.forEach((c, idx) => {
  test(`MaxPoolGrad + AvgPoolGrad match cpu: ${label(c)}`, async () => {
    const rand = seededRandom(2000 + idx);
    const x = { values: makeInput(rand, c.n * c.h * c.w * c.c, c.input), shape: [c.n, c.h, c.w, c.c] };
    await checkBoth(x, c, rand);
  });
});

test('MaxPoolGrad matches cpu on non-finite inputs (-Infinity windows, NaN, +Infinity)', async () => {
  const rand = seededRandom(99);
  const shape = [2, 6, 6, 3];
  const values = makeInput(rand, 216, 'relu');
  for (let i = 0; i < 12; i++) values[i] = -Infinity; // whole -Infinity windows in the first rows
  values[40] = NaN;
  values[41] = NaN;
  values[100] = Infinity;
  for (const c of [{ f: [2, 2], s: [2, 2], pad: 'valid' }, { f: [3, 3], s: [1, 1], pad: 'same' }] as const) {
    await checkBoth({ values, shape }, { f: [...c.f], s: [...c.s], pad: c.pad }, rand);
  }
});

test('pool gradient kernels leak neither tensors nor wasm data ids', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const rand = seededRandom(5);
  const x = tf.tensor4d(makeInput(rand, 2 * 9 * 9 * 4, 'relu'), [2, 9, 9, 4]);
  const run = () => {
    const outs: tf.Tensor[] = [];
    for (const [f, s, pad] of [[2, 2, 'valid'], [3, 1, 'same']] as const) {
      const y = tf.maxPool(x, f, s, pad);
      const attrs = { filterSize: f, strides: s, pad } as never;
      outs.push(y);
      outs.push(tf.engine().runKernel('MaxPoolGrad', { dy: y, input: x, output: y } as never, attrs) as tf.Tensor);
      outs.push(tf.engine().runKernel('AvgPoolGrad', { dy: y, input: x } as never, attrs) as tf.Tensor);
    }
    outs.forEach((t) => t.dataSync());
    tf.dispose(outs);
  };
  run();
  const t0 = tf.memory().numTensors;
  const d0 = backend.numDataIds();
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, t0);
  assert.equal(backend.numDataIds(), d0);
  x.dispose();
});

test('pool gradients reject mismatched dy and non-float32 input', async () => {
  await tf.setBackend('wasm');
  const x = tf.zeros([1, 6, 6, 2]);
  const dy = tf.zeros([1, 2, 2, 2]);
  assert.throws(() => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: dy } as never,
    { filterSize: 2, strides: 2, pad: 'valid' } as never), /does not match/);
  const xi = tf.zeros([1, 4, 4, 2], 'int32');
  assert.throws(() => tf.engine().runKernel('AvgPoolGrad', { dy, input: xi } as never,
    { filterSize: 2, strides: 2, pad: 'valid' } as never), /float32/);
  tf.dispose([x, dy, xi]);
});
