// End to end: `cxr train` interrupted with SIGINT after epoch 1, then `--resume`; flags; `cxr augment-preview`.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import type { ModelMetadata } from '../src-shared/types.ts';
import { realData, tempDir } from '../src-main/core/test-support.ts';
import { cxr, cxrInterrupted, maxRelativeWeightDiff } from './cli.ts';

const data = realData();
const tmp = tempDir();
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
after(() => tmp.cleanup());
const args = ['train', data.dir, '--id', 'resumable', '--max-per-class', '12', '--epochs', '2', '--input-size', '64', '--seed', '3', '--architecture', 'sep-cnn', '--class-weights', '1,2', '--shear', '5', '--noise', '0.01'];

test('Ctrl-C after epoch 1 leaves a checkpoint; --resume finishes the same run', { skip: data.skip }, async () => {
  const first = await cxrInterrupted(args, env, (stderr) => /^epoch 1:/m.test(stderr));
  assert.equal(first.code, 130, first.stderr);
  assert.match(first.stderr, /checkpointed in .*resumable\.checkpoint: run the same command with --resume/);
  const ck = path.join(env.CXR_HOME, 'models', 'resumable.checkpoint');
  assert.ok(existsSync(path.join(ck, 'state.json')));
  const other = await cxr([...args.map((a) => (a === '3' ? '4' : a)), '--resume'], env);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /other settings \(seed: 3 there, 4 now\)/);
  const r = await cxr([...args, '--resume'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming after epoch 1/);
  const md = JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', 'resumable', 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.deepEqual(md.training?.history.map((h) => h.epoch), [1, 2]);
  assert.equal(md.architecture, 'sep-cnn');
  assert.deepEqual(md.training?.hyperparameters.classWeights, [1, 2]);
  assert.deepEqual((md.training?.hyperparameters.augment as { shear: number }).shear, 5);
  assert.ok(!md.training?.command.includes('--resume'));
  assert.ok(!existsSync(ck), 'checkpoint removed after saving');
  // The same run without interruption ends with the same weights (Adam's state is checkpointed too).
  const straight = await cxr([...args.map((a) => (a === 'resumable' ? 'straight' : a))], env);
  assert.equal(straight.code, 0, straight.stderr);
  const worst = maxRelativeWeightDiff(path.join(env.CXR_HOME, 'models', 'resumable'), path.join(env.CXR_HOME, 'models', 'straight'));
  assert.ok(worst <= 1e-4, `resumed and uninterrupted weights differ (max rel. diff ${worst})`);
});

test('bad training flags are usage errors naming the flag', async () => {
  const a = await cxr(['train', '.', '--id', 'x', '--class-weights', '1,-2'], env);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /--class-weights must be auto, none, or two positive numbers/);
  const b = await cxr(['train', '.', '--id', 'x', '--shear', '60'], env);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /--shear must be a number from 0 to 45/);
});

test('augment-preview writes a PNG grid', { skip: data.skip }, async () => {
  const img = path.join(data.dir, 'val', 'NORMAL', readdir(path.join(data.dir, 'val', 'NORMAL'))[0]);
  const out = path.join(tmp.dir, 'grid.png');
  const r = await cxr(['augment-preview', img, '--out', out, '--count', '9', '--size', '64', '--noise', '0.05'], env);
  assert.equal(r.code, 0, r.stderr);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 3 * 64 + 8, 3 * 64 + 8]);
});

function readdir(dir: string): string[] {
  return readdirSync(dir).sort();
}
