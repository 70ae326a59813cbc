// End to end: train a tiny model on a seeded subset, lock a test folder, retrain with new images behind the gate.
import assert from 'node:assert/strict';
import { promises as fsp, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { ModelMetadata } from '../src-shared/types.ts';
import { copyFolder, realData, tempDir } from '../src-main/core/test-support.ts';
import { cxr } from './cli.ts';

const data = realData();
const tmp = tempDir();
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
after(() => tmp.cleanup());

async function copyFrom(split: string, dest: string, from: number, to: number): Promise<void> {
  for (const cls of ['NORMAL', 'PNEUMONIA']) {
    await fsp.mkdir(path.join(dest, cls), { recursive: true });
    const names = (await fsp.readdir(path.join(data.dir, split, cls))).sort().slice(from, to);
    for (const n of names) await fsp.copyFile(path.join(data.dir, split, cls, n), path.join(dest, cls, n));
  }
}

/** Float32 values of every weight named like `pattern` in a stored model folder (model.json + one weights file). */
function weightsMatching(dir: string, pattern: RegExp): Record<string, number[]> {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')).weightsManifest as Array<{ paths: string[]; weights: Array<{ name: string; shape: number[] }> }>;
  assert.equal(manifest.length, 1);
  const bin = readFileSync(path.join(dir, manifest[0].paths[0]));
  const floats = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
  const out: Record<string, number[]> = {};
  let offset = 0;
  for (const w of manifest[0].weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (pattern.test(w.name)) out[w.name] = Array.from(floats.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}

test('retrain: refuses locked images, fine-tunes, scores on the locked set and records the gate decision', { skip: data.skip }, async () => {
  const t = await cxr(['train', data.dir, '--id', 'base', '--max-per-class', '8', '--epochs', '1', '--input-size', '64', '--seed', '5', '--architecture', 'bn-cnn', '--filters', '8,16'], env);
  assert.equal(t.code, 0, t.stderr);
  const lockedDir = path.join(tmp.dir, 'locked');
  await copyFrom('test-dev', lockedDir, 0, 4);
  assert.equal((await cxr(['lock-test', lockedDir], env)).code, 0);
  const add = path.join(tmp.dir, 'new');
  await copyFrom('val', add, 0, 4);
  const leaky = path.join(tmp.dir, 'leaky');
  await copyFolder(add, leaky);
  await fsp.copyFile(path.join(lockedDir, 'NORMAL', (await fsp.readdir(path.join(lockedDir, 'NORMAL')))[0]), path.join(leaky, 'NORMAL', 'again.jpeg'));
  const refused = await cxr(['retrain', '--from', 'base', '--add', leaky, '--epochs', '1', '--max-per-class', '8'], env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /again\.jpeg: this image is in the locked test set/);

  // A calibrated model stays calibrated after retraining (same method, refitted on the retrain's selection set).
  const calib = path.join(tmp.dir, 'calib');
  await copyFrom('val', calib, 4, 8);
  const th = await cxr(['threshold', calib, '--model', 'base', '--youden', '--calibrate', 'temperature'], env);
  assert.equal(th.code, 0, th.stderr);
  // So does a model with a familiarity check: refitted at the same layer and margin on the retrain's own data.
  const fam = await cxr(['familiarity', data.dir, '--model', 'base', '--layer', 'gap', '--max-per-class', '8', '--seed', '5', '--margin', '1.3'], env);
  assert.equal(fam.code, 0, fam.stderr);
  const baseCheck = (JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', 'base', 'metadata.json'), 'utf8')) as ModelMetadata).familiarity!;
  const baseMoving = weightsMatching(path.join(env.CXR_HOME, 'models', 'base'), /moving_/);
  assert.ok(Object.keys(baseMoving).length >= 4, 'the base model has BatchNorm moving statistics');
  const r = await cxr(['retrain', '--from', 'base', '--add', add, '--epochs', '1', '--max-per-class', '8', '--margin', '0.5', '--workers', '2'], env);
  assert.equal(r.code, 0, r.stderr);
  const m = /^(promoted|candidate) base v(\S+): (.*)$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  const [, status, version, reason] = m;
  const versionDir = path.join(env.CXR_HOME, 'models', 'base.versions', version);
  const md = JSON.parse(readFileSync(path.join(versionDir, 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.equal(md.id, 'base');
  assert.match(String(md.training?.hyperparameters.fineTunedFrom), /^base@/);
  // The fitted files' form (old + new) is audited as in cxr train: measured, warned about, named on the card.
  const signals = md.training?.formSignals ?? [];
  assert.deepEqual(signals.map((x) => x.trait), ['file size', 'width', 'height', 'aspect ratio', 'colour channels']);
  const card = readFileSync(path.join(versionDir, 'MODEL_CARD.md'), 'utf8');
  for (const x of signals.filter((y) => y.flagged)) {
    assert.match(r.stderr, new RegExp(`warning: in the training images \\(old \\+ new\\), ${x.trait} alone separates`));
    assert.ok(card.includes(`- In the training images, ${x.trait} alone separates`), x.trait);
  }
  assert.ok(signals.some((x) => x.flagged), 'train/ and val/ images differ in size by class');
  // Fine-tuning (on 2 cores here) keeps every BatchNorm layer's moving statistics, and says so.
  assert.equal(md.training?.hyperparameters.workers, 2);
  assert.match(String(md.training?.hyperparameters.batchNorm), /kept in inference mode/);
  assert.deepEqual(weightsMatching(versionDir, /moving_/), baseMoving);
  assert.ok(md.metrics?.['locked-test']);
  assert.match(md.notes ?? '', /Release gate/);
  assert.equal(md.calibration?.method, 'temperature');
  assert.match(md.calibration!.fittedOn, /selection set of the retrain/);
  assert.equal(md.operatingPoint?.rule, 'youden');
  assert.match(md.thresholdChosenBy, /youden \(temperature-calibrated\) on the selection set of the retrain/);
  assert.equal(md.familiarity?.layer, 'gap');
  assert.equal(md.familiarity.limitFrom.margin, 1.3);
  assert.match(md.familiarity.fittedOn.dataset, /retrain's fit part/);
  assert.match(md.familiarity.limitFrom.dataset, /selection set of the retrain/);
  assert.notEqual(md.familiarity.center.base64, baseCheck.center.base64);
  assert.match(r.stderr, /familiarity check refitted at layer gap: limit [\d.]+ \(1\.3 × [\d.]+ on the selection set\)/);
  const active = JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', 'base', 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.equal(active.version === version, status === 'promoted');
  if (status === 'promoted') assert.ok(existsSync(path.join(env.CXR_HOME, 'models', 'base.versions')), 'old version archived');
  const db = new Database(path.join(env.CXR_HOME, 'history.sqlite'), { readonly: true });
  const rows = db.prepare('SELECT model_id, model_version, status, reason FROM model_promotions').all() as Array<Record<string, string>>;
  db.close();
  assert.deepEqual(rows.map((x) => [x.model_id, x.model_version, x.status, x.reason]), [['base', version, status === 'promoted' ? 'active' : 'candidate', reason]]);
  // --old-data names the old training data when metadata does not (or it moved); a test folder is refused for --add and --old-data.
  // (val 4–6: images no version of base was fitted on, so the retrain has a selection set.)
  const oldData = path.join(tmp.dir, 'old');
  await copyFrom('val', oldData, 4, 7);
  const o = await cxr(['retrain', '--from', 'base', '--add', add, '--old-data', oldData, '--epochs', '1', '--margin', '0.5', '--holdout', '0.5', '--balance-aspect'], env);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stderr, new RegExp(`old training data: 6 images from ${oldData.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // --balance-aspect weighs the old + new fit images as cxr train does, and the class weights step aside.
  assert.match(o.stderr, /^balancing the aspect ratio: 1 bin; weights NORMAL [\d.]+–[\d.]+, PNEUMONIA [\d.]+–[\d.]+; 0 image\(s\) in one-class bins get 0/m);
  // A selection set this small cannot hold the aspect ratio fixed: the log says the plain AUC chooses.
  assert.match(o.stderr, /^epochs are chosen by the selection AUC: only \d+ NORMAL–PNEUMONIA pairs/m);
  const ov = /^(?:promoted|candidate) base v(\S+):/m.exec(o.stdout)![1];
  const oh = (JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', 'base.versions', ov, 'metadata.json'), 'utf8')) as ModelMetadata).training!.hyperparameters;
  assert.deepEqual(oh.classWeights, [1, 1]);
  assert.equal((oh.balance as { trait: string }).trait, 'aspect ratio');
  assert.equal(md.training?.hyperparameters.balance, undefined, 'without the flag nothing is balanced');
  // Images the model was already fitted on stay in fit: the retrain's selection set holds none of them.
  const manifestRows = (dir: string) => readFileSync(path.join(dir, 'training-data.csv'), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
  const baseFit = manifestRows(path.join(env.CXR_HOME, 'models', 'base')).filter((row) => row[0] === 'fit');
  const oldFit = path.join(tmp.dir, 'old-fit');
  for (const [, label, sha, file] of baseFit) {
    await fsp.mkdir(path.join(oldFit, label), { recursive: true });
    await fsp.copyFile(file, path.join(oldFit, label, `${sha.slice(0, 12)}.jpeg`));
  }
  const fresh = path.join(tmp.dir, 'fresh');
  await copyFrom('train', fresh, 300, 304); // train/ images outside every capped subset used above
  const k = await cxr(['retrain', '--from', 'base', '--add', fresh, '--old-data', oldFit, '--epochs', '1', '--margin', '0.5'], env);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stderr, new RegExp(`${baseFit.length} images base was already fitted on stay in fit`));
  const kv = /^(?:promoted|candidate) base v(\S+):/m.exec(k.stdout)![1];
  const kRows = manifestRows(path.join(env.CXR_HOME, 'models', 'base.versions', kv));
  const fitHashes = new Set(baseFit.map((row) => row[2]));
  assert.deepEqual(kRows.filter((row) => row[0] === 'selection' && fitHashes.has(row[2])), [], 'no image base was fitted on is in the selection set');
  assert.equal(kRows.filter((row) => row[0] === 'fit' && fitHashes.has(row[2])).length, baseFit.length);
  assert.ok(kRows.some((row) => row[0] === 'selection'));
  const missing = await cxr(['retrain', '--from', 'base', '--add', add, '--old-data', path.join(tmp.dir, 'nowhere')], env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nowhere: not a folder; give --old-data the folder base was trained on/);
  for (const flag of ['--add', '--old-data']) {
    const args = ['retrain', '--from', 'base', '--add', add, flag, path.join(data.dir, 'test-dev')];
    const t = await cxr(args, env);
    assert.equal(t.code, 1, `${flag} test-dev`);
    assert.match(t.stderr, /test-dev: this is a test folder/);
  }
  const models = await cxr(['models'], env);
  assert.equal((models.stdout.match(/^base +v/gm) ?? []).length, 1, 'versions are not listed as separate models');
});

test('retrain without a locked test set says what to do', { skip: data.skip }, async () => {
  const r = await cxr(['retrain', '--from', 'x', '--add', '.'], { CXR_HOME: path.join(tmp.dir, 'empty') });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model "x" not found|run `cxr lock-test/);
});
