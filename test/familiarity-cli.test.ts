// End to end: the familiarity check refuses pictures that are not chest X-rays (shipped model), and
// `cxr familiarity` fits, lists, previews and removes a check on a tiny model trained here.
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { ModelMetadata } from '../src-shared/types.ts';
import { realData, tempDir, writeGreyDiagram } from '../src-main/core/test-support.ts';
import { cxr, noShippedModel, parseCsvObjects, shipped } from './cli.ts';

const data = realData();
const tmp = tempDir();
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
after(() => tmp.cleanup());

const readMetadata = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as ModelMetadata;

test('the shipped model refuses a grey diagram as UNFAMILIAR, scores it only with --allow-unfamiliar, and the history says so', { skip: noShippedModel }, async () => {
  assert.equal(readMetadata(shipped).familiarity?.layer, 'm3_head_gap');
  const dir = path.join(tmp.dir, 'mixed');
  await fsp.mkdir(dir, { recursive: true });
  await writeGreyDiagram(path.join(dir, 'diagram.jpg'));
  const xray = data.skip ? null : path.join(data.dir, 'test-dev', 'PNEUMONIA', (await fsp.readdir(path.join(data.dir, 'test-dev', 'PNEUMONIA')))[0]);
  if (xray) await fsp.copyFile(xray, path.join(dir, 'study.jpeg'));
  const out = path.join(tmp.dir, 'mixed.json');
  const r = await cxr(['classify', dir, '--out', out], env);
  assert.equal(r.code, 2, r.stderr);
  const json = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ path: string }>; failures: Array<{ path: string; code: string; reason: string }> };
  assert.deepEqual(json.failures.map((f) => [path.basename(f.path), f.code]), [['diagram.jpg', 'UNFAMILIAR']]);
  assert.deepEqual(json.results.map((x) => path.basename(x.path)), xray ? ['study.jpeg'] : []);
  assert.match(r.stderr, /diagram\.jpg: unlike the chest X-rays this model was trained on, so it was not scored \(distance 0\.\d{3} from the images model default was trained on, limit 0\.377\); check that this file is a frontal chest X-ray/);
  const allowed = await cxr(['classify', path.join(dir, 'diagram.jpg'), '--allow-unfamiliar', '--out', path.join(tmp.dir, 'allowed.csv')], env);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, /warning: diagram\.jpg: scored although it is unlike the images the model was trained on/);
  const [row] = parseCsvObjects(readFileSync(path.join(tmp.dir, 'allowed.csv'), 'utf8'));
  assert.match(row.unfamiliar, /^distance 0\.\d{3} from the images model default was trained on, limit 0\.377$/);
  assert.equal(row.error, '');
  // On labelled folders, evaluate and compare score such images and warn.
  if (xray) {
    const labelled = path.join(tmp.dir, 'labelled');
    await fsp.mkdir(path.join(labelled, 'NORMAL'), { recursive: true });
    await fsp.mkdir(path.join(labelled, 'PNEUMONIA'), { recursive: true });
    await fsp.copyFile(path.join(dir, 'diagram.jpg'), path.join(labelled, 'NORMAL', 'diagram.jpg'));
    await fsp.copyFile(xray, path.join(labelled, 'PNEUMONIA', 'study.jpeg'));
    const ev = await cxr(['evaluate', labelled, '--json'], env);
    assert.equal(ev.code, 0, ev.stderr);
    assert.equal((JSON.parse(ev.stdout) as { n: number }).n, 2);
    assert.match(ev.stderr, /warning: 1 of these 2 images are unlike the images default was trained on \(e\.g\. \S+diagram\.jpg: distance 0\.\d{3}/);
    const cmp = await cxr(['compare', 'default', 'seed-cnn', '--on', labelled, '--json'], env);
    assert.equal(cmp.code, 0, cmp.stderr);
    assert.match(cmp.stderr, /warning: 1 of these 2 images are unlike the images default was trained on \(e\.g\. \S+diagram\.jpg\); cxr classify refuses such images, here they are scored and compared/);
    assert.doesNotMatch(cmp.stderr, /unlike the images seed-cnn/, 'seed-cnn has no check');
  }
  const db = new Database(path.join(env.CXR_HOME, 'history.sqlite'), { readonly: true });
  const notes = db.prepare('SELECT text FROM notes').pluck().all() as string[];
  db.close();
  assert.equal(notes.length, 1);
  assert.match(notes[0], /^scored although unlike the images the model was trained on \(distance/);
});

test('cxr familiarity: lists candidate layers, fits, previews with --dry-run, names a bad layer, and --off removes the check', { skip: data.skip }, async () => {
  const t = await cxr(['train', data.dir, '--id', 'fam', '--max-per-class', '8', '--epochs', '1', '--input-size', '64', '--seed', '5', '--architecture', 'bn-cnn', '--filters', '8,16'], env);
  assert.equal(t.code, 0, t.stderr);
  const dir = path.join(env.CXR_HOME, 'models', 'fam');
  const oneImage = path.join(data.dir, 'val', 'NORMAL', (await fsp.readdir(path.join(data.dir, 'val', 'NORMAL'))).sort()[0]);
  const before = await cxr(['classify', oneImage, '--model', 'fam'], env);
  assert.equal(before.code, 0, before.stderr);
  const list = await cxr(['familiarity', data.dir, '--model', 'fam'], env);
  assert.equal(list.code, 1);
  assert.match(list.stderr, /choose the layer with --layer NAME; layers of fam that give one vector per image: gap \(16\)/);
  const bad = await cxr(['familiarity', data.dir, '--model', 'fam', '--layer', 'conv1'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /layer "conv1" gives shape \[batch, 64, 64, 8\], not one vector per image/);
  // No --seed or --max-per-class: the split is the one fam was trained with (seed 5, 8 per class), from its metadata.
  const args = ['familiarity', data.dir, '--model', 'fam', '--layer', 'gap'];
  const dry = await cxr([...args, '--dry-run'], env);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^fam v\S+: familiarity at layer gap \(16 values\), limit [\d.]+ \(1\.1 × [\d.]+\)$/m);
  assert.match(dry.stdout, /^ {2}fit: 14 images, distance median/m);
  assert.match(dry.stderr, /dry run: the model was not changed/);
  assert.equal(readMetadata(dir).familiarity, undefined);
  const fit = await cxr([...args, '--json'], env);
  assert.equal(fit.code, 0, fit.stderr);
  const printed = JSON.parse(fit.stdout) as { limit: number; engine: string };
  const md = readMetadata(dir);
  assert.equal(md.familiarity?.layer, 'gap');
  assert.equal(md.familiarity.limit, printed.limit);
  assert.equal(md.familiarity.center.length, 16);
  assert.match(md.familiarity.fittedOn.dataset, /train\/ minus the seed-5 0\.15 hold-out/);
  const fitRows = readFileSync(path.join(dir, 'training-data.csv'), 'utf8').split(/\r?\n/).filter((l) => l.startsWith('fit,'));
  assert.equal(md.familiarity.fittedOn.n, fitRows.length, 'the centre is the mean over exactly the images fam was fitted on');
  assert.match(printed.engine, /^onnxruntime|^tfjs/);
  const card = readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8');
  assert.match(card, /- Familiarity check: an image is refused as UNFAMILIAR, not scored, when its `gap` feature lies further than/);
  assert.equal(md.familiarity.command, `npx cxr familiarity ${data.dir} --model fam --layer gap`);
  assert.ok(card.includes(`Reproduce with \`npx cxr familiarity ${data.dir} --model fam --layer gap\`.`));
  // A diagnosis made before the check was fitted is not reused: the image is classified (and checked) again.
  const again = await cxr(['classify', oneImage, '--model', 'fam'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /skipped: 0 already classified by fam/);
  assert.match((await cxr(['classify', oneImage, '--model', 'fam'], env)).stderr, /skipped: 1 already classified by fam/);
  // The selection images set the limit, so none of them is refused by the check they set.
  const sel = await cxr(['classify', path.join(data.dir, 'val'), '--model', 'fam', '--no-history'], env);
  assert.equal(sel.code, 0, sel.stderr);
  const off = await cxr(['familiarity', '--model', 'fam', '--off'], env);
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /fam: familiarity check removed/);
  assert.equal(readMetadata(dir).familiarity, undefined);
  assert.doesNotMatch(readFileSync(path.join(dir, 'MODEL_CARD.md'), 'utf8'), /Familiarity check/);
});
