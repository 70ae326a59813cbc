// End to end: `cxr dataset` on the real folder layout.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { test } from 'node:test';
import { realData } from '../src-main/core/test-support.ts';
import { cxr } from './cli.ts';

const data = realData();

test('cxr dataset reports the split/class layout and the real counts', { skip: data.skip }, async () => {
  const r = await cxr(['dataset', data.dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const scan = JSON.parse(r.stdout);
  assert.equal(scan.layout, 'split/class');
  assert.deepEqual(scan.counts['test-dev'], { NORMAL: 40, PNEUMONIA: 40 });
  assert.deepEqual(scan.counts.train, { NORMAL: 407, PNEUMONIA: 1162 });
  assert.deepEqual(scan.counts.val, { NORMAL: 8, PNEUMONIA: 8 });
  assert.equal(scan.leaks.length, 0);
  // Form signals: in train/ (re-encoded to a 512 px long side) the aspect ratio alone predicts the label.
  const train = scan.formSignals.find((r: { split: string }) => r.split === 'train');
  assert.deepEqual(train.counts, { NORMAL: 407, PNEUMONIA: 1162 });
  const aspect = train.signals.find((s: { trait: string }) => s.trait === 'aspect ratio');
  assert.ok(aspect.flagged && aspect.separation > 0.85 && aspect.higherIn === 'PNEUMONIA', JSON.stringify(aspect));
  assert.equal(train.signals.find((s: { trait: string }) => s.trait === 'width').flagged, false, 'every train/ image is 512 px at its long side');
});

test('cxr dataset names the form signals a model could learn as shortcuts', { skip: data.skip }, async () => {
  const r = await cxr(['dataset', path.join(data.dir, 'val'), '--no-hash']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /sizing: 16\/16/);
  assert.doesNotMatch(r.stderr, /hashing/, '--no-hash hashes nothing');
  assert.match(r.stdout, /^form signals \(each trait alone; AUC 0\.5 = none, ! = 0\.75 or more\):$/m);
  assert.match(r.stdout, /^  all \(8 NORMAL \/ 8 PNEUMONIA\): file size 1\.00 !, .*aspect ratio 0\.95 !/m);
  assert.match(r.stdout, /^    ! aspect ratio alone separates NORMAL from PNEUMONIA with AUC 0\.95 \(median 1\.22 vs 1\.50\): the centre crop \(`crop`\) hides most of it/m);
});

test('cxr dataset --tone adds each class\'s brightness and contrast as a model sees the image', { skip: data.skip }, async () => {
  const r = await cxr(['dataset', path.join(data.dir, 'val'), '--no-hash', '--tone']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /reading grey levels: 16\/16/);
  // val/'s NORMAL originals are the brighter ones (unlike train/), and have the wider spread of grey levels.
  assert.match(r.stdout, /^  all \(8 NORMAL \/ 8 PNEUMONIA\): .*colour channels 0\.50, mean grey level 0\.58, grey-level spread 0\.91 !$/m);
  assert.match(r.stdout, /^    ! grey-level spread alone separates NORMAL from PNEUMONIA with AUC 0\.91 \(median 48\.0 vs 33\.1\): brightness and contrast come from the machine and exposure as well as from disease; a model sees them unless its input is tone-normalised \(`cxr train --tone`\)$/m);
  const plain = await cxr(['dataset', path.join(data.dir, 'val'), '--no-hash', '--json']);
  const traits = JSON.parse(plain.stdout).formSignals[0].signals.map((s: { trait: string }) => s.trait);
  assert.deepEqual(traits, ['file size', 'width', 'height', 'aspect ratio', 'colour channels'], 'without --tone only headers are read');
});

test('cxr dataset --tone lists colour pictures, which train and classify would skip, and exits 2', { skip: data.skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cxr-dataset-colour-'));
  try {
    for (const c of ['NORMAL', 'PNEUMONIA']) {
      mkdirSync(path.join(dir, c));
      for (const f of readdirSync(path.join(data.dir, 'val', c)).slice(0, 5)) copyFileSync(path.join(data.dir, 'val', c, f), path.join(dir, c, f));
    }
    const half = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => ((i / 3) % 64 < 32 ? [30, 160, 60] : [128, 128, 128])[i % 3]);
    await sharp(half, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(path.join(dir, 'NORMAL', 'photo.png'));
    const r = await cxr(['dataset', dir, '--no-hash', '--tone']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^not grey: .*NORMAL\/photo\.png: 50 % of its pixels are coloured; cxr train and cxr classify skip it/m);
    assert.equal(r.stdout.match(/^not grey:/gm)?.length, 1, 'the X-rays are grey');
    const json = JSON.parse((await cxr(['dataset', dir, '--no-hash', '--tone', '--json'])).stdout);
    assert.deepEqual(json.notGrey.map((f: { path: string }) => path.basename(f.path)), ['photo.png']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cxr dataset on a missing folder says so', async () => {
  const r = await cxr(['dataset', '/no/such/folder', '--no-hash']);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /no\/such\/folder/);
});
