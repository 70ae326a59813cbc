import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Row } from './rows.ts';
import { evaluateTargets, pipelineLimit, pipelineLimitOf } from './targets.ts';

const row = (network: string, engine: string, bench: Row['bench'], batch: number, ips: number, extra: Partial<Row> = {}): Row =>
  ({ network, engine, bench, batch, images: ips * 2, seconds: 2, gflopPerImage: 0.3, ...extra });

const rows: Row[] = [
  row('reference', 'tfjs wasm', 'model only', 32, 100),
  row('reference', 'onnxruntime cpu', 'model only', 32, 400),
  row('default', 'tfjs wasm', 'model only', 32, 380),
  row('default', 'onnxruntime cpu', 'model only', 32, 400),
  row('default', 'onnxruntime cpu', 'model only', 1, 200),
  row('default', 'sharp', 'decode only', 0, 100),
  row('default', 'onnxruntime cpu', 'classify e2e', 0, 79),
  row('default', 'cxr classify auto → onnxruntime cpu', 'classify e2e', 0, 70),
  row('reference', 'tfjs wasm', 'training', 32, 16),
  row('reference', 'tfjs wasm ×2 workers', 'training', 32, 41),
  row('default', 'tfjs wasm', 'activations + Grad-CAM', 1, 5),
  row('MobileNetV2 224', 'tfjs wasm', 'activations + Grad-CAM', 1, 0.5),
  row('default', 'cxr classify auto → onnxruntime cpu', 'memory', 0, 50, { images: 2000, seconds: 40, peakRssBytes: 600e6 }),
];

test('pipeline limit is the serial sum of decode and model time per image', () => {
  assert.equal(pipelineLimit(100, 400), 80);
  const lim = pipelineLimitOf(rows, 'default')!;
  assert.equal(lim.limit, 80);
  assert.equal(lim.model.engine, 'onnxruntime cpu');
  assert.equal(lim.model.batch, 32);
});

test('targets: verdicts from the same run', () => {
  const t = evaluateTargets(rows, { defaultNetwork: 'default', referenceNetwork: 'reference' });
  assert.equal(t.length, 6);
  // e2e takes the automatic choice (70 img/s = 0.875× of 80), not the best forced engine
  assert.equal(t[0].status, 'met');
  assert.match(t[0].measured, /^0\.88×/);
  assert.equal(t[1].status, 'met'); // reference: onnxruntime itself is the fastest
  assert.match(t[1].measured, /fastest TensorFlow\.js: tfjs wasm 0\.25×/);
  assert.equal(t[2].status, 'met'); // default: onnxruntime 400 is fastest
  assert.equal(t[3].status, 'met'); // best wasm row: ×2 workers, 41 img/s
  assert.match(t[3].measured, /41\.0 img\/s \(tfjs wasm ×2 workers/);
  assert.equal(t[4].status, 'not met'); // MobileNetV2 takes 2 s
  assert.equal(t[5].status, 'met');
});

test('targets: missing rows are "not measured", small memory runs do not count', () => {
  const t = evaluateTargets([row('default', 'x', 'memory', 0, 10, { images: 100, peakRssBytes: 1e6 })], { defaultNetwork: 'default', referenceNetwork: 'reference' });
  assert.deepEqual(t.map((x) => x.status), ['not measured', 'not measured', 'not measured', 'not measured', 'not measured', 'not measured']);
  assert.match(t[5].measured, /only 100 images/);
  const slow = evaluateTargets([row('default', 'x', 'memory', 0, 10, { images: 2000, peakRssBytes: 1.6e9 })], { defaultNetwork: 'default', referenceNetwork: 'reference' });
  assert.equal(slow[5].status, 'not met');
});
