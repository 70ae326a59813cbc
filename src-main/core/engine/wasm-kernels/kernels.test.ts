import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { compare, randomArray, runOn, seededRandom, setupBackends } from './test-helpers.ts';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case { n: number; h: number; w: number; c: number; k: [number, number]; m: number; s: [number, number]; d: [number, number]; pad: Pad }

const explicit: Pad = [[0, 0], [1, 2], [0, 1], [0, 0]];
const CASES: Case[] = [
  { n: 2, h: 9, w: 7, c: 3, k: [3, 3], m: 5, s: [1, 1], d: [1, 1], pad: 'valid' },
  { n: 3, h: 10, w: 13, c: 4, k: [3, 2], m: 6, s: [2, 2], d: [1, 1], pad: 'same' },
  { n: 2, h: 11, w: 8, c: 16, k: [3, 3], m: 8, s: [1, 1], d: [1, 1], pad: 'same' },
  { n: 2, h: 12, w: 9, c: 20, k: [3, 3], m: 7, s: [2, 1], d: [1, 1], pad: 'valid' },
  { n: 2, h: 13, w: 11, c: 5, k: [3, 3], m: 4, s: [1, 1], d: [2, 2], pad: 'same' },
  { n: 2, h: 14, w: 12, c: 17, k: [2, 3], m: 3, s: [1, 1], d: [2, 2], pad: 'valid' },
  { n: 3, h: 9, w: 10, c: 2, k: [3, 3], m: 3, s: [2, 2], d: [1, 1], pad: explicit },
  { n: 1, h: 8, w: 8, c: 24, k: [1, 1], m: 4, s: [2, 2], d: [1, 1], pad: 'valid' },
];

function label(c: Case): string {
  return `n${c.n} ${c.h}x${c.w}x${c.c} k${c.k} m${c.m} s${c.s} d${c.d} pad=${typeof c.pad === 'string' ? c.pad : 'explicit'}`;
}

/** Zero-inserts a [kh,kw,a,b] filter to its dilated equivalent (cpu kernels ignore dilation). */
function dilateFilter(f: Float32Array, [kh, kw, a, b]: number[], [dh, dw]: [number, number]): { values: Float32Array; shape: number[] } {
  const eh = (kh - 1) * dh + 1;
  const ew = (kw - 1) * dw + 1;
  const out = new Float32Array(eh * ew * a * b);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
    const src = (i * kw + j) * a * b;
    out.set(f.subarray(src, src + a * b), (i * dh * ew + j * dw) * a * b);
  }
  return { values: out, shape: [eh, ew, a, b] };
}

function undilateFilter(f: Float32Array, [kh, kw, a, b]: number[], [dh, dw]: [number, number]): Float32Array {
  const ew = (kw - 1) * dw + 1;
  const out = new Float32Array(kh * kw * a * b);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
    const src = (i * dh * ew + j * dw) * a * b;
    out.set(f.subarray(src, src + a * b), (i * kw + j) * a * b);
  }
  return out;
}

function outShape(c: Case, depthwise: boolean): number[] {
  const fs = [c.k[0], c.k[1], c.c, depthwise ? c.m : c.m] as [number, number, number, number];
  const info = backend_util.computeConv2DInfo([c.n, c.h, c.w, c.c], fs, c.s, c.d, c.pad, undefined, depthwise);
  return info.outShape;
}

before(setupBackends);

CASES.forEach((c, idx) => {
  const rand = seededRandom(1000 + idx);
  const x = { values: randomArray(rand, c.n * c.h * c.w * c.c), shape: [c.n, c.h, c.w, c.c] };
  const dilated = c.d[0] > 1 || c.d[1] > 1;

  test(`Conv2DBackpropFilter ${label(c)}`, async () => {
    const os = outShape(c, false);
    const dy = { values: randomArray(rand, os.reduce((a, b) => a * b)), shape: os };
    const fs = [c.k[0], c.k[1], c.c, c.m];
    const got = await runOn('wasm', 'Conv2DBackpropFilter', { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: fs, dilations: c.d });
    const effShape = [(c.k[0] - 1) * c.d[0] + 1, (c.k[1] - 1) * c.d[1] + 1, c.c, c.m];
    const ref = await runOn('cpu', 'Conv2DBackpropFilter', { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: effShape });
    const expected = dilated ? undilateFilter(ref.values, fs, c.d) : ref.values;
    assert.deepEqual(got.shape, fs);
    const r = compare(got.values, expected);
    assert.ok(r.ok, `max rel err ${r.maxRel}`);
  });

  test(`Conv2DBackpropInput ${label(c)}`, async () => {
    const os = outShape(c, false);
    const dy = { values: randomArray(rand, os.reduce((a, b) => a * b)), shape: os };
    const fs = [c.k[0], c.k[1], c.c, c.m];
    const filter = { values: randomArray(rand, fs.reduce((a, b) => a * b)), shape: fs };
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: x.shape };
    const got = await runOn('wasm', 'Conv2DBackpropInput', { dy, filter }, { ...attrs, dilations: c.d });
    const ref = await runOn('cpu', 'Conv2DBackpropInput', { dy, filter: dilated ? dilateFilter(filter.values, fs, c.d) : filter }, attrs);
    assert.deepEqual(got.shape, x.shape);
    const r = compare(got.values, ref.values);
    assert.ok(r.ok, `max rel err ${r.maxRel}`);
  });

  test(`DepthwiseConv2dNativeBackpropFilter ${label(c)}`, async () => {
    const m = (idx % 3) + 1;
    const fs = [c.k[0], c.k[1], c.c, m];
    const info = backend_util.computeConv2DInfo([c.n, c.h, c.w, c.c], fs as [number, number, number, number], c.s, c.d, c.pad, undefined, true);
    const dy = { values: randomArray(rand, info.outShape.reduce((a, b) => a * b)), shape: info.outShape };
    const attrs = { strides: c.s, pad: c.pad, dilations: c.d, filterShape: fs };
    const got = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs);
    // The cpu kernels ignore `dilations`: compare against the zero-dilated filter instead.
    const effShape = [(c.k[0] - 1) * c.d[0] + 1, (c.k[1] - 1) * c.d[1] + 1, c.c, m];
    const ref = await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, dilations: [1, 1], filterShape: effShape });
    assert.deepEqual(got.shape, fs);
    const r = compare(got.values, dilated ? undilateFilter(ref.values, fs, c.d) : ref.values);
    assert.ok(r.ok, `max rel err ${r.maxRel}`);
  });

  test(`DepthwiseConv2dNativeBackpropInput ${label(c)}`, async () => {
    const m = (idx % 3) + 1;
    const fs = [c.k[0], c.k[1], c.c, m];
    const info = backend_util.computeConv2DInfo([c.n, c.h, c.w, c.c], fs as [number, number, number, number], c.s, c.d, c.pad, undefined, true);
    const dy = { values: randomArray(rand, info.outShape.reduce((a, b) => a * b)), shape: info.outShape };
    const filter = { values: randomArray(rand, fs.reduce((a, b) => a * b)), shape: fs };
    const attrs = { strides: c.s, pad: c.pad, dilations: c.d, inputShape: x.shape };
    const got = await runOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs);
    const ref = await runOn('cpu', 'DepthwiseConv2dNativeBackpropInput',
      { dy, filter: dilated ? dilateFilter(filter.values, fs, c.d) : filter }, { ...attrs, dilations: [1, 1] });
    assert.deepEqual(got.shape, x.shape);
    const r = compare(got.values, ref.values);
    assert.ok(r.ok, `max rel err ${r.maxRel}`);
  });
});

const SUM_CASES: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
  { shape: [4, 18, 17, 8], axis: [0, 1, 2], keepDims: false }, // bias gradient of a conv layer (matmul route)
  { shape: [4, 18, 17, 8], axis: [2, 0, 1], keepDims: true }, // unsorted axes, keepDims
  { shape: [8, 126, 126, 8], axis: [0, 1, 2], keepDims: false }, // a large window (15876 per row)
  { shape: [300, 24], axis: 0, keepDims: false }, // dense bias gradient
  { shape: [6, 20, 9, 7], axis: [-4, -3], keepDims: false }, // negative axes, two leading
  { shape: [4, 18, 17, 8], axis: [1, 2], keepDims: false }, // not leading: built-in
  { shape: [4, 18, 17, 8], axis: [0, 1, 2, 3], keepDims: false }, // every axis: built-in
  { shape: [3, 5, 2], axis: [0, 1], keepDims: true }, // small: built-in
];
SUM_CASES.forEach((c, idx) => {
  test(`Sum ${c.shape.join('x')} axis ${String(c.axis)}${c.keepDims ? ' keepDims' : ''}`, async () => {
    const rand = seededRandom(500 + idx);
    const x = { values: randomArray(rand, c.shape.reduce((a, b) => a * b)), shape: c.shape };
    const got = await runOn('wasm', 'Sum', { x }, { axis: c.axis, keepDims: c.keepDims });
    const ref = await runOn('cpu', 'Sum', { x }, { axis: c.axis, keepDims: c.keepDims });
    assert.deepEqual(got.shape, ref.shape);
    const r = compare(got.values, ref.values);
    assert.ok(r.ok, `max rel err ${r.maxRel}`);
  });
});

const MATMUL_CASES = [
  { a: [1, 32, 300], b: [1, 300, 24], ta: false, tb: false },
  { a: [1, 300, 32], b: [1, 300, 24], ta: true, tb: false }, // dW = xᵀ·dy
  { a: [1, 32, 24], b: [1, 300, 24], ta: false, tb: true }, // dX = dy·Wᵀ
  { a: [2, 300, 32], b: [2, 24, 300], ta: true, tb: true },
  { a: [3, 7, 5], b: [1, 9, 5], ta: false, tb: true }, // broadcast batch: built-in
  { a: [300, 32], b: [300, 24], ta: true, tb: false }, // rank 2 (what tf.matMul passes for Dense layers)
  { a: [32, 24], b: [300, 24], ta: false, tb: true },
  { a: [2, 3, 24, 32], b: [2, 3, 40, 24], ta: true, tb: true }, // rank 4
];
MATMUL_CASES.forEach((c, idx) => {
  test(`BatchMatMul ${c.a.join('x')}${c.ta ? 'ᵀ' : ''} · ${c.b.join('x')}${c.tb ? 'ᵀ' : ''}`, async () => {
    const rand = seededRandom(700 + idx);
    const a = { values: randomArray(rand, c.a.reduce((x, y) => x * y)), shape: c.a };
    const b = { values: randomArray(rand, c.b.reduce((x, y) => x * y)), shape: c.b };
    const got = await runOn('wasm', 'BatchMatMul', { a, b }, { transposeA: c.ta, transposeB: c.tb });
    const ref = await runOn('cpu', 'BatchMatMul', { a, b }, { transposeA: c.ta, transposeB: c.tb });
    assert.deepEqual(got.shape, ref.shape);
    const r = compare(got.values, ref.values);
    assert.ok(r.ok, `max rel err ${r.maxRel}`);
  });
});

test('kernels leak neither tensors nor wasm data ids', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const c = CASES[3];
  const rand = seededRandom(7);
  const x = tf.tensor(randomArray(rand, c.n * c.h * c.w * c.c), [c.n, c.h, c.w, c.c]);
  const os = outShape(c, false);
  const dy = tf.tensor(randomArray(rand, os.reduce((a, b) => a * b)), os);
  const w = tf.tensor(randomArray(rand, 9 * c.c * c.m), [3, 3, c.c, c.m]);
  const big = tf.tensor(randomArray(rand, 4 * 18 * 17 * 8), [4, 18, 17, 8]);
  const run = () => {
    const a = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy } as never, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: [3, 3, c.c, c.m] } as never) as tf.Tensor;
    const b = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w } as never, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: x.shape } as never) as tf.Tensor;
    const s = tf.sum(big, [0, 1, 2]); // our Sum (matrix-product route)
    const m = tf.tidy(() => tf.matMul(tf.reshape(dy, [-1, c.m]), tf.reshape(dy, [-1, c.m]), true, false)); // our BatchMatMul (transposed operand)
    a.dataSync(); b.dataSync(); s.dataSync(); m.dataSync();
    tf.dispose([a, b, s, m]);
  };
  run();
  const t0 = tf.memory().numTensors;
  const d0 = backend.numDataIds();
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, t0);
  assert.equal(backend.numDataIds(), d0);
  tf.dispose([x, dy, w, big]);
});

test('NCHW is rejected with a clear error', async () => {
  await tf.setBackend('wasm');
  const x = tf.zeros([1, 2, 5, 5]);
  const dy = tf.zeros([1, 2, 3, 3]);
  assert.throws(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy } as never,
    { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] } as never), /NHWC/);
  tf.dispose([x, dy]);
});
