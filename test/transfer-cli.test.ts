// End to end: `cxr train --base mobilenetv2` (two-phase transfer) on a tiny seeded subset, then classify.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ModelMetadata } from '../src-shared/types.ts';
import { auc } from '../src-main/core/evaluation/metrics.ts';
import { realData, tempDir } from '../src-main/core/test-support.ts';
import { cxr, cxrInterrupted, maxRelativeWeightDiff, parseCsvObjects } from './cli.ts';

const data = realData();
const tmp = tempDir();
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
after(() => tmp.cleanup());

test('transfer from MobileNetV2: two phases, counts recorded, the model classifies val above chance', { skip: data.skip }, async () => {
  const r = await cxr(['train', data.dir, '--id', 'mnv2', '--base', 'mobilenetv2', '--freeze-base', '--then-unfreeze-from', 'block_16_expand',
    '--fine-tune-lr', '1e-5', '--fine-tune-epochs', '1', '--epochs', '3', '--lr', '0.001', '--max-per-class', '16', '--input-size', '160', '--seed', '7', '--backend', 'wasm'], env);
  assert.equal(r.code, 0, r.stderr);
  // Phase 1 trains the head on cached features; phase 2's batch of 32 at 160×160 would overflow wasm memory in one pass.
  assert.match(r.stderr, /cached \d+ training feature vectors \(4 views per image\)/);
  assert.match(r.stderr, /batch 32 does not fit the wasm backend's memory in one pass: gradients are accumulated over micro-batches of \d+/);
  assert.match(r.stderr, /phase 1 \(feature extraction, base frozen\): 1281 trainable, \d+ frozen parameters/);
  assert.match(r.stderr, /phase 2 \(fine-tuning from "block_16_expand"\): \d+ trainable, \d+ frozen parameters, lr 0\.00001/);
  const dir = path.join(env.CXR_HOME, 'models', 'mnv2');
  const md = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.deepEqual(md.input, { height: 160, width: 160, channels: 3, resize: 'crop', scaling: 'scale255' });
  assert.equal(md.architecture, 'transfer:mobilenetv2@out_relu');
  const phases = md.training?.hyperparameters.phases as Array<{ phase: string; trainable: number; frozen: number }>;
  assert.deepEqual(phases.map((p) => p.phase), ['feature-extraction', 'fine-tuning']);
  assert.equal(phases[0].trainable, 1281);
  assert.ok(phases[1].trainable > phases[0].trainable && phases[1].frozen < phases[0].frozen);
  assert.equal(phases[0].trainable + phases[0].frozen, md.parameters);
  assert.match(readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8'), /feature-extraction/);
  const out = path.join(tmp.dir, 'val.csv');
  const c = await cxr(['classify', path.join(data.dir, 'val'), '--model', 'mnv2', '--out', out, '--backend', 'wasm'], env);
  assert.equal(c.code, 0, c.stderr);
  const rows = parseCsvObjects(readFileSync(out, 'utf8'));
  assert.equal(rows.length, 16);
  const labels = rows.map((x) => (x.path.includes(`${path.sep}PNEUMONIA${path.sep}`) ? 1 : 0));
  const a = auc(labels, rows.map((x) => Number(x.probability)));
  assert.ok(a > 0.5, `val AUC ${a} is not above chance`);
});

test('transfer flags without --base are a usage error; vgg19 without weights names the file to supply', async () => {
  const r = await cxr(['train', '.', '--id', 'x', '--freeze-base'], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--freeze-base needs --base mobilenetv2\|inceptionv3\|vgg19\|MODEL/);
  const v = await cxr(['train', '.', '--id', 'v', '--base', 'vgg19', '--max-per-class', '4', '--input-size', '32', '--backend', 'wasm'], env);
  assert.equal(v.code, 1);
  assert.match(v.stderr, /--base vgg19 needs --base-weights FILE: the Keras ImageNet file vgg19_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
});

test('a transfer run stopped twice (after caching features, then in fine-tuning) resumes to the weights of an uninterrupted run', { skip: data.skip }, async () => {
  const args = (id: string) => ['train', data.dir, '--id', id, '--base', 'mobilenetv2', '--freeze-base', '--then-unfreeze-from', 'block_16_expand', '--fine-tune-lr', '1e-5',
    '--fine-tune-epochs', '2', '--epochs', '40', '--patience', '40', '--max-per-class', '8', '--input-size', '96', '--seed', '7', '--backend', 'wasm', '--balance-aspect'];
  const ck = path.join(env.CXR_HOME, 'models', 'resumed.checkpoint');
  const first = await cxrInterrupted(args('resumed'), env, (e) => /cached \d+ training feature vectors/.test(e));
  assert.equal(first.code, 130, first.stderr);
  assert.match(first.stderr, /What was finished \(cached features, phase 1, the last fine-tuning epoch\) is checkpointed in .*resumed\.checkpoint/);
  assert.ok(existsSync(path.join(ck, 'transfer.json')), 'no transfer checkpoint written');
  const second = await cxrInterrupted([...args('resumed'), '--resume'], env, (e) => /phase 2 \(fine-tuning[^]*\nepoch 1:/.test(e));
  assert.equal(second.code, 130, second.stderr);
  assert.match(second.stderr, /resuming from .*resumed\.checkpoint: (the frozen base's features are cached|phase 1 is done)/);
  const stage = JSON.parse(readFileSync(path.join(ck, 'transfer.json'), 'utf8')).stage;
  assert.equal(stage, 'phase2');
  const other = await cxr([...args('resumed').map((a) => (a === '7' ? '8' : a)), '--resume'], env);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /other settings \(seed: 7 there, 8 now\)/);
  const third = await cxr([...args('resumed'), '--resume'], env);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /resuming from .*: fine-tuning continues after its epoch 1/);
  assert.ok(!existsSync(ck), 'checkpoint removed after saving');
  const straight = await cxr(args('straight'), env);
  assert.equal(straight.code, 0, straight.stderr);
  const md = (id: string) => JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', id, 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.deepEqual(md('resumed').training?.history.map((h) => h.epoch), md('straight').training?.history.map((h) => h.epoch));
  assert.equal((md('straight').training?.hyperparameters.balance as { trait: string }).trait, 'aspect ratio', 'balancing weights follow the cached features through a resume');
  const worst = maxRelativeWeightDiff(path.join(env.CXR_HOME, 'models', 'resumed'), path.join(env.CXR_HOME, 'models', 'straight'));
  assert.ok(worst <= 1e-4, `resumed and uninterrupted weights differ (max rel. diff ${worst})`);
});

test('transfer from a stored model refuses a selection set holding images that model was fitted on, and runs on its own split', { skip: data.skip }, async () => {
  const small = ['--max-per-class', '8', '--epochs', '1', '--seed', '5', '--workers', '1'];
  const src = await cxr(['train', data.dir, '--id', 'src', '--architecture', 'bn-cnn', '--filters', '8,16', '--input-size', '64', ...small], env);
  assert.equal(src.code, 0, src.stderr);
  const topology = JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', 'src', 'model.json'), 'utf8')).modelTopology;
  const layers = (topology.model_config ?? topology).config.layers as Array<{ class_name: string; config: { name: string } }>;
  const conv = layers.filter((l) => l.class_name === 'Conv2D').at(-1)!.config.name;
  const base = ['train', data.dir, '--base', 'src', '--cut-at', conv, '--freeze-base', ...small];
  // Same capped images (same seed), split with another hold-out: some of src's fit images land in this run's selection set.
  const leaky = await cxr([...base, '--id', 'leaky', '--holdout', '0.4'], env);
  assert.equal(leaky.code, 1, leaky.stderr);
  assert.match(leaky.stderr, /base model "src" was trained on \d+ of this run's \d+ selection images \(e\.g\. .*\): [^]*Use the split it was trained with \(--seed 5 --holdout 0\.15 --max-per-class 8\)/);
  const same = await cxr([...base, '--id', 'fromsrc'], env);
  assert.equal(same.code, 0, same.stderr);
});

test('transfer from InceptionV3: fine-tunes its last Inception block (scale-less BatchNorm) and Grad-CAM explains its last convolution', { skip: data.skip }, async () => {
  const r = await cxr(['train', data.dir, '--id', 'inc', '--base', 'inceptionv3', '--input-size', '75', '--freeze-base', '--feature-views', '1', '--epochs', '1',
    '--unfreeze-last-blocks', '1', '--fine-tune-epochs', '1', '--max-per-class', '6', '--seed', '7', '--backend', 'wasm'], env);
  assert.equal(r.code, 0, r.stderr);
  // The last block starts right after mixed9; before the BatchNorm fix, its gradient threw "reading 'dtype'".
  assert.match(r.stderr, /phase 2 \(fine-tuning from "conv2d_90"\)/);
  const md = JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', 'inc', 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.equal(md.architecture, 'transfer:inceptionv3@mixed10');
  const folder = path.join(data.dir, 'val', 'PNEUMONIA');
  const image = path.join(folder, readdirSync(folder).sort()[0]);
  const out = path.join(tmp.dir, 'inc-explain');
  const e = await cxr(['explain', image, '--model', 'inc', '--gradcam', '--out', out, '--backend', 'wasm'], env);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stderr + e.stdout, /grad-cam \(gradcam\) at conv2d_94 /);
  assert.ok(existsSync(path.join(out, 'overlay.png')));
});
