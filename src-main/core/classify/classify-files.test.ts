import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import type { EngineInfo } from '../../../src-shared/types.ts';
import { listImageFiles } from '../dataset/list-files.ts';
import { initEngine } from '../engine/backend.ts';
import { packVector } from '../familiarity/familiarity.ts';
import { tfjsPredictor, type Predictor } from '../inference/predictor.ts';
import { loadStoredModel, resolveModel } from '../models/store.ts';
import { saveTinyModel, tempDir } from '../test-support.ts';
import { classifyFiles } from './classify-files.ts';
import { parseCsv } from '../history/csv.ts';
import { resultsToCsv } from './write-results.ts';

const tmp = tempDir();
let engine: EngineInfo;
let predictor: Predictor;
let md: Awaited<ReturnType<typeof saveTinyModel>>;
const imgDir = path.join(tmp.dir, 'images');

before(async () => {
  engine = await initEngine({ backend: 'wasm' });
  md = await saveTinyModel(path.join(tmp.dir, 'models', 'tiny'));
  const stored = await resolveModel('tiny', { modelsDir: path.join(tmp.dir, 'models') });
  predictor = tfjsPredictor(await loadStoredModel(stored), md);
  await fsp.mkdir(path.join(imgDir, 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) {
    const px = Buffer.alloc(200 * 160, (i * 40) % 256);
    await sharp(px, { raw: { width: 200, height: 160, channels: 1 } }).jpeg().toFile(path.join(imgDir, i % 2 ? 'sub' : '', `ok${i}.jpg`));
  }
  await fsp.writeFile(path.join(imgDir, 'notes.jpg'), 'this is text, not an image');
  await sharp(Buffer.alloc(4, 255), { raw: { width: 1, height: 1, channels: 4 } }).png().toFile(path.join(imgDir, 'tiny.png'));
  const good = await fsp.readFile(path.join(imgDir, 'ok0.jpg'));
  await fsp.writeFile(path.join(imgDir, 'sub', 'truncated.jpg'), good.subarray(0, Math.floor(good.length / 2)));
});
after(() => {
  predictor.dispose();
  tmp.cleanup();
});

test('a batch with bad files classifies the good ones and reports each bad one', async () => {
  const { files } = await listImageFiles([imgDir]);
  assert.equal(files.length, 8);
  const seen: string[] = [];
  const out = await classifyFiles({ files, metadata: md, predictor, engine, batchSize: 2, onProgress: (d) => seen.push(String(d)) });
  assert.equal(out.records.length, 5);
  assert.equal(seen.length, 8);
  const codes = Object.fromEntries(out.failures.map((f) => [path.basename(f.path), f.code]));
  assert.deepEqual(codes, { 'notes.jpg': 'NOT_AN_IMAGE', 'tiny.png': 'TOO_SMALL', 'truncated.jpg': 'TRUNCATED' });
  for (const f of out.failures) assert.ok(f.reason.includes(path.basename(f.path)), f.reason);
  for (const r of out.records) {
    assert.ok(r.probability >= 0 && r.probability <= 1);
    assert.equal(r.label, r.probability >= md.threshold ? 'PNEUMONIA' : 'NORMAL');
    assert.match(r.sha256, /^[0-9a-f]{64}$/);
    assert.equal(r.backend, 'wasm');
  }
});

test('a threshold override changes labels, not probabilities', async () => {
  const { files } = await listImageFiles([imgDir]);
  const a = await classifyFiles({ files, metadata: md, predictor, engine, threshold: 0 });
  assert.ok(a.records.every((r) => r.label === 'PNEUMONIA' && r.threshold === 0));
});

test('a warm classify leaks no tensors', async () => {
  const { files } = await listImageFiles([imgDir]);
  await classifyFiles({ files, metadata: md, predictor, engine });
  const before = tf.memory().numTensors;
  await classifyFiles({ files, metadata: md, predictor, engine });
  assert.equal(tf.memory().numTensors, before);
});

test('cancelling stops the batch', async () => {
  const { files } = await listImageFiles([imgDir]);
  const ctrl = new AbortController();
  ctrl.abort();
  const out = await classifyFiles({ files, metadata: md, predictor, engine, signal: ctrl.signal });
  assert.equal(out.cancelled, true);
  assert.equal(out.records.length, 0);
});

test('images beyond the familiarity limit are refused as UNFAMILIAR and the batch goes on; allowUnfamiliar scores and flags them', async () => {
  const { files } = await listImageFiles([imgDir]);
  const far = {
    ...md, familiarity: {
      layer: 'gap', center: packVector([1, 0, 0, 0, 0, 0, 0, 0.5]), limit: 1e-6, fittedOn: { dataset: 'test', n: 1 },
      limitFrom: { dataset: 'test', n: 1, largest: 1e-6, margin: 1 }, chosenAt: new Date(0).toISOString(),
    },
  };
  const checked = tfjsPredictor(await loadStoredModel(await resolveModel('tiny', { modelsDir: path.join(tmp.dir, 'models') })), far);
  try {
    const refused = await classifyFiles({ files, metadata: far, predictor: checked, engine, batchSize: 2 });
    assert.equal(refused.records.length, 0);
    const codes = refused.failures.map((f) => f.code).sort();
    assert.deepEqual(codes, ['NOT_AN_IMAGE', 'TOO_SMALL', 'TRUNCATED', ...Array(5).fill('UNFAMILIAR')].sort());
    const one = refused.failures.find((f) => f.code === 'UNFAMILIAR')!;
    assert.match(one.reason, /^ok\d\.jpg: unlike the chest X-rays this model was trained on, so it was not scored \(distance \d\.\d{3} from the images model tiny was trained on, limit 0\.000\)/);
    const allowed = await classifyFiles({ files, metadata: far, predictor: checked, engine, allowUnfamiliar: true });
    assert.equal(allowed.records.length, 5);
    assert.ok(allowed.records.every((r) => /^distance /.test(r.unfamiliar ?? '')));
    const plain = await classifyFiles({ files, metadata: md, predictor, engine });
    assert.deepEqual(allowed.records.map((r) => r.probability), plain.records.map((r) => r.probability), 'the check does not change the scores');
    assert.ok(plain.records.every((r) => r.unfamiliar === undefined));
    const csv = parseCsv(resultsToCsv(allowed.records.slice(0, 1), refused.failures.slice(0, 1)).trim());
    assert.deepEqual(csv[0].slice(-2), ['unfamiliar', 'error']);
    assert.equal(csv[1].length, csv[0].length);
    assert.equal(csv[2].length, csv[0].length);
  } finally {
    checked.dispose();
  }
});

test('CSV output escapes quotes, commas and formula-like cells', () => {
  const csv = resultsToCsv(
    [{ path: 'a,"b".jpg', sha256: 'x', probability: 0.5, label: 'PNEUMONIA', threshold: 0.4, modelId: 'm', modelVersion: '1', backend: 'wasm', engine: 'tfjs wasm', milliseconds: 3 }],
    [{ path: '=cmd.jpg', code: 'EMPTY', reason: 'empty' }],
  );
  const lines = csv.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.ok(lines[1].startsWith('"a,""b"".jpg",x,0.500000,PNEUMONIA'));
  assert.ok(lines[2].startsWith('"=cmd.jpg",'));
});
