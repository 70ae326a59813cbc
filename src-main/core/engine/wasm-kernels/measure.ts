/**
 * Training throughput of the seed-like CNN (128x128x1, batch 32) on the wasm
 * backend plus per-kernel timings. Run:
 *   node --import tsx src-main/core/engine/wasm-kernels/measure.ts [steps] [--builtin-pool]
 * --builtin-pool trains with the built-in wasm MaxPoolGrad / AvgPoolGrad (baseline).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { conv2dBackpropFilterTuning, registerWasmTrainingKernels } from './index.ts';
import { buildModel } from './test-models.ts';

const args = process.argv.slice(2);
const steps = Number(args.find((a) => !a.startsWith('--')) ?? 4);
await tf.setBackend('wasm');
await tf.ready();
const builtinBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
const builtinPool = ['MaxPoolGrad', 'AvgPoolGrad'].map((k) => tf.getKernel(k, 'wasm'));
console.log('registered:', registerWasmTrainingKernels().join(', '));
const oursPool = ['MaxPoolGrad', 'AvgPoolGrad'].map((k) => tf.getKernel(k, 'wasm'));
if (args.includes('--builtin-pool')) {
  for (const k of builtinPool) {
    if (k == null) continue;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
  }
  console.log('using the built-in wasm MaxPoolGrad / AvgPoolGrad');
}

const BATCH = 32;
const model = buildModel('plain', 128, [32, 64, 128, 128], 512);
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
const x = tf.randomUniform([BATCH, 128, 128, 1]);
const y = tf.cast(tf.greater(tf.randomUniform([BATCH, 1]), 0.5), 'float32');

await model.trainOnBatch(x, y); // warm-up (optimizer slots, XNNPACK operators)
const t0 = performance.now();
for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
const msPerStep = (performance.now() - t0) / steps;
console.log(`\narchitecture (a) 128x128x1 batch ${BATCH}: ${msPerStep.toFixed(0)} ms/step, ` +
  `${((BATCH * 1000) / msPerStep).toFixed(1)} images/s (wasm, ${steps} steps)`);

// Per-kernel time inside one training step (wasm kernels run synchronously).
const prof = await tf.profile(async () => { await model.trainOnBatch(x, y); });
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of prof.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += Number(k.kernelTimeMs);
  e.calls++;
  byKernel.set(k.name, e);
}
const total = [...byKernel.values()].reduce((a, b) => a + b.ms, 0);
console.log(`\nper-kernel time in one step (profiled, total ${total.toFixed(0)} ms):`);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
  console.log(`  ${name.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms  (${e.calls} calls)`);
}

// Kernel micro-benchmarks on the layer shapes of architecture (a).
function time(fn: () => tf.Tensor, reps = 2): number {
  fn().dispose();
  const s = performance.now();
  for (let i = 0; i < reps; i++) fn().dispose();
  return (performance.now() - s) / reps;
}
const layers = [[128, 1, 32], [63, 32, 64], [30, 64, 128], [14, 128, 128]] as const;
/** Runs a kernel implementation directly (not through the engine) once and returns ms. */
function timeDirect(kernel: tf.KernelConfig | undefined, inputs: Record<string, tf.Tensor>, attrs: object): number {
  if (kernel == null) return NaN;
  const backend = tf.backend();
  const infos = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { dataId: t.dataId, shape: t.shape, dtype: t.dtype }]));
  const s = performance.now();
  const out = kernel.kernelFunc({ inputs: infos, attrs: attrs as never, backend }) as tf.TensorInfo;
  const ms = performance.now() - s;
  (backend as unknown as { disposeData(d: object): void }).disposeData(out.dataId);
  return ms;
}
console.log('\nper-layer kernels (ms): Conv2D fwd | BackpropFilter (matmul / conv strategy) | BackpropInput (ours / built-in)' +
  ' | 2x2 MaxPoolGrad (ours / built-in) | 2x2 AvgPoolGrad (ours / built-in)');
for (const [h, ci, co] of layers) {
  const xs = tf.randomNormal([BATCH, h, h, ci]);
  const w = tf.randomNormal([3, 3, ci, co]);
  const dy = tf.randomNormal([BATCH, h - 2, h - 2, co]);
  const fwd = time(() => tf.conv2d(xs as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'));
  const bf = (minC: number) => {
    conv2dBackpropFilterTuning.convStrategyMinInChannels = minC;
    return time(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy } as never,
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] } as never) as tf.Tensor);
  };
  const bfMatmul = bf(Infinity);
  const bfConv = bf(0);
  conv2dBackpropFilterTuning.convStrategyMinInChannels = 8;
  const bpAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: xs.shape };
  const bi = time(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w } as never, bpAttrs as never) as tf.Tensor);
  let biBuiltin = NaN;
  if (builtinBackpropInput) {
    const backend = tf.backend();
    const dyInfo = { dataId: dy.dataId, shape: dy.shape, dtype: dy.dtype };
    const wInfo = { dataId: w.dataId, shape: w.shape, dtype: w.dtype };
    const s = performance.now();
    const out = builtinBackpropInput.kernelFunc({ inputs: { dy: dyInfo, filter: wInfo }, attrs: bpAttrs as never, backend }) as tf.TensorInfo;
    biBuiltin = performance.now() - s;
    (backend as unknown as { disposeData(d: object): void }).disposeData(out.dataId);
  }
  // Pooling after this layer: input = conv output [B, h-2, h-2, co] (ReLU'd, so with ties).
  const act = tf.relu(dy);
  const pooled = tf.maxPool(act as tf.Tensor4D, 2, 2, 'valid');
  const poolAttrs = { filterSize: 2, strides: 2, pad: 'valid' };
  const mpIn = { dy: pooled, input: act, output: pooled };
  const apIn = { dy: pooled, input: act };
  const [mpOurs, apOurs] = [[oursPool[0], mpIn], [oursPool[1], apIn]].map(([k, ins]) => {
    timeDirect(k as tf.KernelConfig, ins as Record<string, tf.Tensor>, poolAttrs); // warm-up (JIT)
    return (timeDirect(k as tf.KernelConfig, ins as Record<string, tf.Tensor>, poolAttrs) +
      timeDirect(k as tf.KernelConfig, ins as Record<string, tf.Tensor>, poolAttrs)) / 2;
  });
  const mpBuiltin = timeDirect(builtinPool[0], mpIn, poolAttrs);
  const apBuiltin = timeDirect(builtinPool[1], apIn, poolAttrs);
  console.log(`  ${h}x${h}x${ci}->${co}: ${fwd.toFixed(0)} | ${bfMatmul.toFixed(0)} / ${bfConv.toFixed(0)} | ` +
    `${bi.toFixed(0)} / ${biBuiltin.toFixed(0)} | ${mpOurs.toFixed(0)} / ${mpBuiltin.toFixed(0)} | ` +
    `${apOurs.toFixed(0)} / ${apBuiltin.toFixed(0)}`);
  tf.dispose([xs, w, dy, act, pooled]);
}
console.log(`\nnumTensors=${tf.memory().numTensors}`);
