import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchConfig } from './config.ts';
import { cycle } from './memory.ts';
import { tableLine } from './report.ts';
import { autoEngineLabel, gflops, imagesPerSecond, ratioTo, startupExcludedRate, unavailableRow, type Row } from './rows.ts';

test('start-up excluded rate: (N − 1) / (tN − t1)', () => {
  assert.equal(startupExcludedRate(81, 1.5, 0.5), 80);
  assert.ok(Number.isNaN(startupExcludedRate(10, 0.5, 0.5)));
  assert.throws(() => startupExcludedRate(1, 1, 0.5));
});

test('images/s, GFLOP/s and ratios to a peer on the same network, bench and batch', () => {
  const a: Row = { network: 'n', engine: 'tfjs wasm', bench: 'model only', batch: 32, images: 100, seconds: 2, gflopPerImage: 0.3 };
  const b: Row = { ...a, engine: 'onnxruntime cpu', images: 400 };
  const other: Row = { ...b, batch: 1, images: 1000 };
  const rows = [a, b, other];
  assert.equal(imagesPerSecond(a), 50);
  assert.ok(Math.abs(gflops(a) - 15) < 1e-9);
  assert.equal(ratioTo(rows, a, 'onnxruntime cpu'), 0.25);
  assert.ok(Number.isNaN(ratioTo(rows, a, 'tfjs cpu')));
  assert.match(tableLine(rows, a), /\| n \| tfjs wasm \| model only \| 32 \| 50\.0 \| 20\.00 \| 15\.0 \| 0\.25 \| – \|/);
  const na = unavailableRow('n', 'tfjs-node-gpu', 'model only', 'not installed | really');
  assert.ok(Number.isNaN(imagesPerSecond(na)));
  assert.match(tableLine(rows, na), /not available .* not installed \\\| really \|$/);
});

test('auto engine label from the classify engine line', () => {
  assert.equal(autoEngineLabel('onnxruntime-node 1.30.0 cpu, 2 threads (--engine auto)'), 'cxr classify auto → onnxruntime cpu');
  assert.equal(autoEngineLabel('tfjs 4.22.0 wasm SIMD, 1 thread (--engine auto: onnx unavailable)'), 'cxr classify auto → tfjs wasm');
});

test('bench config from the environment', () => {
  const c = benchConfig({ BENCH_BACKENDS: 'wasm,onnx', BENCH_SCALE: '0.1', BENCH_PARTS: 'model,memory' });
  assert.deepEqual([...c.engines].sort(), ['onnx', 'onnx-cuda', 'wasm']);
  assert.equal(c.scale, 0.1);
  assert.deepEqual([...c.parts], ['model', 'memory']);
  assert.equal(c.memoryImages, 2000);
  assert.equal(benchConfig({ BENCH_BACKENDS: 'tfjs-node-gpu' }).engines.has('tensorflow-gpu'), true);
  assert.throws(() => benchConfig({ BENCH_BACKENDS: 'tpu' }), /BENCH_BACKENDS: unknown "tpu"/);
  assert.throws(() => benchConfig({ BENCH_REF_PADDING: 'full' }), /BENCH_REF_PADDING/);
});

test('memory inputs cycle through the files', () => {
  assert.deepEqual(cycle(['a', 'b', 'c'], 7), ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  assert.deepEqual(cycle([], 5), []);
});
