// End to end: the real `cxr classify` on real X-rays with the shipped model, and on bad inputs.
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import type { ModelMetadata } from '../src-shared/types.ts';
import { auc } from '../src-main/core/evaluation/metrics.ts';
import { realData, tempDir } from '../src-main/core/test-support.ts';
import { cxr, noShippedModel, parseCsvObjects, root, shipped } from './cli.ts';

const data = realData();
const tmp = tempDir();
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
after(() => tmp.cleanup());

test('classify test-dev with the shipped model reproduces the model card metrics', { skip: data.skip || noShippedModel }, async () => {
  const out = path.join(tmp.dir, 'r.csv');
  const r = await cxr(['classify', path.join(data.dir, 'test-dev'), '--out', out], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /80 classified, 0 failed/);
  assert.match(r.stderr, /engine tfjs 4\.\d+\.\d+ wasm SIMD/);
  const rows = parseCsvObjects(readFileSync(out, 'utf8'));
  assert.equal(rows.length, 80);
  const md = JSON.parse(readFileSync(path.join(shipped, 'metadata.json'), 'utf8')) as ModelMetadata;
  const card = md.metrics?.['test-dev'];
  assert.ok(card, 'the model card has no test-dev metrics');
  const labels = rows.map((x) => (x.path.includes(`${path.sep}PNEUMONIA${path.sep}`) ? 1 : 0));
  const probs = rows.map((x) => Number(x.probability));
  const acc = rows.filter((x, i) => (x.label === 'PNEUMONIA' ? 1 : 0) === labels[i]).length / rows.length;
  const a = auc(labels, probs);
  assert.ok(Math.abs(a - card.auc.value) <= 0.01, `AUC ${a} vs card ${card.auc.value}`);
  assert.ok(Math.abs(acc - card.accuracy.value) <= 0.0251, `accuracy ${acc} vs card ${card.accuracy.value}`);
  // The shipped default model is at most 20 MB on disk (issue #2), whatever its weight storage.
  const bytes = (await fsp.readdir(shipped)).reduce((n, f) => n + statSync(path.join(shipped, f)).size, 0);
  assert.ok(bytes <= 20e6, `models/default holds ${(bytes / 1e6).toFixed(1)} MB; at most 20 MB`);
  for (const row of rows) {
    assert.equal(row.modelId, 'default');
    assert.equal(row.backend, 'wasm');
    assert.match(row.sha256, /^[0-9a-f]{64}$/);
    assert.ok(Number(row.milliseconds) > 0);
  }
});

test('bad inputs are reported by name and never stop the batch', { skip: data.skip || noShippedModel }, async () => {
  const dir = path.join(tmp.dir, 'bad');
  await fsp.mkdir(dir, { recursive: true });
  const empty = path.join(tmp.dir, 'empty-folder');
  await fsp.mkdir(empty, { recursive: true });
  const src = path.join(data.dir, 'test-dev', 'NORMAL', (await fsp.readdir(path.join(data.dir, 'test-dev', 'NORMAL')))[0]);
  const bytes = await fsp.readFile(src);
  await fsp.writeFile(path.join(dir, 'good.jpeg'), bytes);
  await fsp.writeFile(path.join(dir, 'truncated.jpeg'), bytes.subarray(0, bytes.length >> 1));
  await fsp.writeFile(path.join(dir, 'report.jpg'), 'not an image at all\n');
  await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toFile(path.join(dir, 'one-pixel.png'));
  await sharp(bytes).resize(300).toColourspace('grey16').png().toFile(path.join(dir, 'sixteen-bit.png'));
  await sharp(bytes).resize(300).ensureAlpha().png().toFile(path.join(dir, 'rgba.png'));
  const grey = await sharp(bytes).resize(300).greyscale().raw().toBuffer({ resolveWithObject: true });
  const hot = Uint8Array.from({ length: grey.data.length * 3 }, (_, i) => [grey.data[(i / 3) | 0], grey.data[(i / 3) | 0] >> 1, 255 - grey.data[(i / 3) | 0]][i % 3]);
  await sharp(hot, { raw: { width: grey.info.width, height: grey.info.height, channels: 3 } }).png().toFile(path.join(dir, 'pseudo-colour.png')); // an X-ray in false colour
  // Passed over by the folder walk and counted in the summary; the DICOM named on the command line is refused by name.
  const dicom = path.join(data.dir, 'dicom', 'derived-kermany-sc', 'NORMAL_IM-0133-0001.dcm');
  await fsp.copyFile(dicom, path.join(dir, 'study.dcm'));
  await fsp.writeFile(path.join(dir, 'notes.txt'), 'reading list\n');
  const out = path.join(tmp.dir, 'bad.json');
  const missing = path.join(tmp.dir, 'no-such-folder');
  const r = await cxr(['classify', dir, empty, missing, dicom, '--out', out, '--force'], env);
  assert.equal(r.code, 2, r.stderr);
  const json = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ path: string }>; failures: Array<{ path: string; code: string; reason: string }> };
  assert.deepEqual(json.results.map((x) => path.basename(x.path)).sort(), ['good.jpeg', 'rgba.png', 'sixteen-bit.png']);
  const codes = Object.fromEntries(json.failures.map((f) => [path.basename(f.path), f.code]));
  assert.deepEqual(codes, {
    'empty-folder': 'EMPTY_FOLDER', 'no-such-folder': 'NOT_FOUND', 'one-pixel.png': 'TOO_SMALL', 'report.jpg': 'NOT_AN_IMAGE', 'truncated.jpeg': 'TRUNCATED',
    'NORMAL_IM-0133-0001.dcm': 'UNSUPPORTED_FORMAT', 'pseudo-colour.png': 'NOT_GREY',
  });
  for (const name of ['truncated.jpeg', 'report.jpg', 'one-pixel.png', 'no-such-folder', 'empty-folder', 'NORMAL_IM-0133-0001.dcm', 'pseudo-colour.png']) assert.ok(r.stderr.includes(name), `stderr names ${name}`);
  assert.match(r.stderr, /NORMAL_IM-0133-0001\.dcm: this image format is not supported \(DICOM file, which this version does not read: export the study from the PACS or DICOM viewer\)/);
  assert.match(r.stderr, /pseudo-colour\.png: a colour picture, not a grey radiograph \(\d+ % of its pixels are coloured\); check that this file is a chest X-ray/);
  assert.match(r.stderr, /3 classified, 7 failed/);
  assert.match(r.stderr, /not read: 2 files that are not \.jpg\/\.jpeg\/\.png \(1 \.dcm, 1 \.txt; DICOM is not read by this version/);
});

test('usage errors exit 1 with the usage shown', async () => {
  const none = await cxr(['classify'], env);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /name at least one folder or image file[\s\S]*usage: cxr classify/);
  const bad = await cxr(['classify', '.', '--threshold', '2'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--threshold must be a number from 0 to 1/);
  const fmt = await cxr(['classify', '.', '--out', 'x.txt'], env);
  assert.equal(fmt.code, 1);
  const unknown = await cxr(['frobnicate'], env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});

test('doctor tells the truth about the backend and lists the shipped model', { skip: noShippedModel }, async () => {
  const r = await cxr(['doctor', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.engine.backend, 'wasm');
  assert.equal(d.engine.simd, true);
  assert.equal(d.engine.threads, 1);
  assert.ok(d.engine.candidates.find((c: { name: string }) => c.name === 'tensorflow').available === false);
  assert.ok(d.models.some((m: { id: string; source: string }) => m.id === 'default' && m.source === 'shipped'));
  assert.ok(d.wasmTrainingKernels.includes('Conv2DBackpropFilter'));
  const forced = await cxr(['doctor', '--json', '--backend', 'cpu'], env);
  assert.equal(JSON.parse(forced.stdout).engine.backend, 'cpu');
  const viaEnv = await cxr(['doctor', '--json'], { ...env, CXR_BACKEND: 'cpu' });
  assert.equal(JSON.parse(viaEnv.stdout).engine.chosenBy, 'env CXR_BACKEND');
});

test('a folder without read permission is reported and the batch goes on', { skip: data.skip || noShippedModel }, async (t) => {
  // Root reads everything, so as root the CLI runs as the unprivileged user `nobody` (setpriv).
  const { spawnSync } = await import('node:child_process');
  const asRoot = process.getuid?.() === 0;
  const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
  if (asRoot && spawnSync('setpriv', [...nobody, process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(path.join(root, 'bin', 'cxr.mjs'))})`]).status !== 0) {
    return t.skip('running as root and user nobody cannot read this checkout (or setpriv is missing)');
  }
  const base = await fsp.mkdtemp(path.join('/tmp', 'cxr-perm-'));
  try {
    await fsp.chmod(base, 0o777);
    const locked = path.join(base, 'locked');
    const open = path.join(base, 'open');
    await fsp.mkdir(locked);
    await fsp.mkdir(open);
    const src = path.join(data.dir, 'val', 'NORMAL', (await fsp.readdir(path.join(data.dir, 'val', 'NORMAL')))[0]);
    await fsp.copyFile(src, path.join(locked, 'a.jpeg'));
    await fsp.copyFile(src, path.join(open, 'b.jpeg'));
    await fsp.chmod(open, 0o755);
    await fsp.chmod(path.join(open, 'b.jpeg'), 0o644);
    await fsp.chmod(locked, 0o000);
    const args = [path.join(root, 'bin', 'cxr.mjs'), 'classify', locked, open, '--no-history', '--engine', 'tfjs'];
    const cmd = asRoot ? 'setpriv' : process.execPath;
    const argv = asRoot ? [...nobody, 'env', `HOME=${base}`, `CXR_HOME=${base}`, process.execPath, ...args] : args;
    const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, CXR_HOME: base } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /locked: permission denied; check the folder permissions/);
    assert.match(r.stderr, /1 classified, 1 failed/);
  } finally {
    await fsp.chmod(path.join(base, 'locked'), 0o755).catch(() => {});
    await fsp.rm(base, { recursive: true, force: true });
  }
});
