// End to end: `cxr train` on a tiny seeded subset of the real training data.
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ModelMetadata } from '../src-shared/types.ts';
import { realData, tempDir } from '../src-main/core/test-support.ts';
import { dataFingerprint } from '../src-main/core/training/data-manifest.ts';
import { cxr, parseCsvObjects } from './cli.ts';

const data = realData();
const tmp = tempDir();
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
after(() => tmp.cleanup());

test('train a tiny model, then classify with it from the user model folder', { skip: data.skip }, async () => {
  const r = await cxr(['train', data.dir, '--id', 'tiny', '--max-per-class', '16', '--epochs', '2', '--input-size', '64', '--seed', '7', '--source-form', '512:90'], env);
  assert.equal(r.code, 0, r.stderr);
  const dir = path.join(env.CXR_HOME, 'models', 'tiny');
  const md = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.equal(md.id, 'tiny');
  assert.equal(md.training?.epochs, 2);
  assert.deepEqual(md.input.sourceForm, { maxSide: 512, jpegQuality: 90 }, 'the training images\' form is recorded');
  assert.ok(!JSON.stringify(md.training?.counts).includes('test'), 'test split used in training');
  assert.match(md.thresholdChosenBy, /selection set/);
  // Exactly which images: a manifest beside the model, and fingerprints in metadata and card.
  const manifest = parseCsvObjects(readFileSync(path.join(dir, 'training-data.csv'), 'utf8'));
  const parts = md.training?.data ?? {};
  assert.deepEqual(Object.keys(parts), ['fit', 'selection']);
  assert.equal(manifest.length, parts.fit.files + parts.selection.files);
  assert.equal(parts.fit.sha256, dataFingerprint(manifest.filter((r) => r.part === 'fit').map((r) => r.sha256)));
  assert.ok(manifest.every((r) => /^[0-9a-f]{64}$/.test(r.sha256) && ['NORMAL', 'PNEUMONIA'].includes(r.label) && !r.path.includes('test-dev')));
  const card = readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
  assert.match(card, new RegExp(`- fit: ${parts.fit.files} images, \`${parts.fit.sha256}\``));
  assert.match(card, /not for diagnostic use/);
  assert.match(card, /npx cxr train/);
  assert.match(card, /CC BY 4\.0/);
  // The fitted files' form is audited: every trait measured, each flagged one warned about and named on the card.
  const signals = md.training?.formSignals ?? [];
  assert.deepEqual(signals.map((s) => s.trait), ['file size', 'width', 'height', 'aspect ratio', 'colour channels']);
  assert.ok(signals.find((s) => s.trait === 'aspect ratio')?.flagged, 'in these 28 train/ images (seed 7) the aspect ratio separates the classes with AUC 0.91');
  for (const s of signals.filter((x) => x.flagged)) {
    assert.ok(card.includes(`- In the training images, ${s.trait} alone separates NORMAL from PNEUMONIA`), s.trait);
    assert.match(r.stdout + r.stderr, new RegExp(`warning: in the training images, ${s.trait} alone separates`));
  }
  const models = await cxr(['models'], env);
  assert.match(models.stdout, /^tiny +v/m);
  const c = await cxr(['classify', path.join(data.dir, 'val'), '--model', 'tiny'], env);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout.trim().split('\n').length, 16);
});

test('training refuses data that contains a copy of a test image', { skip: data.skip }, async () => {
  const root = path.join(tmp.dir, 'leaky');
  for (const cls of ['NORMAL', 'PNEUMONIA']) {
    await fsp.mkdir(path.join(root, 'train', cls), { recursive: true });
    await fsp.mkdir(path.join(root, 'test', cls), { recursive: true });
    const names = (await fsp.readdir(path.join(data.dir, 'val', cls))).slice(0, 4);
    for (const n of names) await fsp.copyFile(path.join(data.dir, 'val', cls, n), path.join(root, 'train', cls, n));
    await fsp.copyFile(path.join(data.dir, 'val', cls, names[0]), path.join(root, 'test', cls, 'copy.jpeg'));
  }
  const r = await cxr(['train', root, '--id', 'leaky', '--epochs', '1', '--input-size', '64'], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /also in the test split \(same content\); remove it from training data/);
});

test('training refuses a test folder, and images of the locked test set', { skip: data.skip }, async () => {
  const t = await cxr(['train', path.join(data.dir, 'test-dev'), '--id', 'cheat', '--epochs', '1', '--input-size', '64'], env);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /test-dev: this is a test folder; train and select on training data/);
  const home = { CXR_HOME: path.join(tmp.dir, 'locked-home') };
  const lock = await cxr(['lock-test', path.join(data.dir, 'val')], home);
  assert.equal(lock.code, 0, lock.stderr);
  const l = await cxr(['train', data.dir, '--id', 'locked', '--max-per-class', '4', '--epochs', '1', '--input-size', '64'], home);
  assert.equal(l.code, 1);
  assert.match(l.stderr, /val.*: this image is in the locked test set \(cxr lock-test; same content\); remove it from the training data/);
});

test('--balance-aspect weighs each aspect-ratio bin\'s classes equally and says how; an .npz is refused', { skip: data.skip }, async () => {
  const r = await cxr(['train', data.dir, '--id', 'balanced', '--max-per-class', '40', '--epochs', '1', '--input-size', '64', '--seed', '7', '--balance-aspect', '--no-augment'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^balancing the aspect ratio: 2 bins; weights NORMAL \d+\.\d\d–\d+\.\d\d, PNEUMONIA \d+\.\d\d–\d+\.\d\d; \d+ image\(s\) in one-class bins get 0, \d+ capped at 10$/m);
  const md = JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', 'balanced', 'metadata.json'), 'utf8')) as ModelMetadata;
  const hp = md.training!.hyperparameters;
  assert.deepEqual(hp.classWeights, [1, 1], 'the balancing weights balance the classes already');
  const balance = hp.balance as { trait: string; bins: Array<{ NORMAL: number; PNEUMONIA: number }> };
  assert.equal(balance.trait, 'aspect ratio');
  assert.equal(balance.bins.reduce((s, b) => s + b.NORMAL + b.PNEUMONIA, 0), md.training!.data!.fit.files);
  // In train/ wider images are mostly PNEUMONIA: the low bin holds more NORMAL than the high one.
  assert.ok(balance.bins[0].NORMAL > balance.bins[1].NORMAL, JSON.stringify(balance.bins));
  // Epochs are chosen by the selection AUC with the aspect ratio held fixed when enough pairs share a bin; not here.
  assert.match(r.stderr, /epochs are chosen by the selection AUC: only \d+ NORMAL–PNEUMONIA pairs of the selection set share an aspect-ratio bin \(20 needed/);
  assert.equal(hp.selectionScore, undefined);
  const wide = await cxr(['train', data.dir, '--id', 'balanced80', '--max-per-class', '80', '--epochs', '1', '--input-size', '64', '--seed', '7', '--balance-aspect', '--no-augment'], env);
  assert.equal(wide.code, 0, wide.stderr);
  assert.match(wide.stderr, /epochs are chosen by the selection AUC with the aspect ratio held fixed \(\d+ of \d+ pairs, 6 bins\)/);
  assert.match(wide.stderr, /^epoch 1: .* AUC \d\.\d{4} \(aspect held fixed \d\.\d{4}\) lr/m);
  const md80 = JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', 'balanced80', 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.equal(md80.training!.hyperparameters.selectionScore, 'AUC with the aspect ratio held fixed');
  assert.ok(Number.isFinite((md80.training!.history![0] as { valScore?: number }).valScore));
  const npz = await cxr(['train', path.join(data.dir, 'pneumoniamnist', 'pneumoniamnist-trainval.npz'), '--id', 'n', '--balance-aspect', '--epochs', '1'], env);
  assert.equal(npz.code, 1);
  assert.match(npz.stderr, /pneumoniamnist-trainval\.npz: balancing the aspect ratio needs a dataset folder of image files/);
});

test('--tone is recorded in the input spec and the card, and the model classifies with it (here on .npz arrays)', { skip: data.skip }, async () => {
  const npz = path.join(data.dir, 'pneumoniamnist', 'pneumoniamnist-trainval.npz');
  const r = await cxr(['train', npz, '--id', 'eq28', '--tone', 'equalize', '--epochs', '1', '--max-per-class', '40', '--architecture', 'bn-cnn', '--filters', '4,8', '--dense-units', '8', '--exclude-near', path.join(data.dir, 'val')], env);
  assert.equal(r.code, 0, r.stderr);
  const dir = path.join(env.CXR_HOME, 'models', 'eq28');
  const md = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.equal(md.input.tone, 'equalize');
  assert.match(readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8'), /- Input: 28×28, 1 channel\(s\), resize `crop`, scaling `scale255`; each image's grey-level histogram is equalized after resizing\./);
  const c = await cxr(['classify', path.join(data.dir, 'val', 'NORMAL'), '--model', 'eq28', '--out', path.join(env.CXR_HOME, 'eq.json')], env);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((JSON.parse(readFileSync(path.join(env.CXR_HOME, 'eq.json'), 'utf8')) as { results: unknown[] }).results.length, 8);
});

test('train without --id is a usage error', async () => {
  const r = await cxr(['train', '.'], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--id is required/);
});
