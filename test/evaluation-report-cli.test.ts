// End to end: `cxr evaluate --out`, `cxr lock-test` and `cxr threshold` on a few real images with a tiny model.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ModelMetadata } from '../src-shared/types.ts';
import { initEngine } from '../src-main/core/engine/backend.ts';
import { copyFolder, realData, saveTinyModel, tempDir } from '../src-main/core/test-support.ts';
import { cxr } from './cli.ts';

const data = realData();
const tmp = tempDir();
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
const modelDir = path.join(env.CXR_HOME, 'models', 'tiny');
const val = path.join(tmp.dir, 'val');
const locked = path.join(tmp.dir, 'locked');
after(() => tmp.cleanup());

before(async () => {
  if (data.skip) return;
  await initEngine({ backend: 'cpu' });
  await saveTinyModel(modelDir, 'tiny');
  for (const cls of ['NORMAL', 'PNEUMONIA']) {
    const names = (await fsp.readdir(path.join(data.dir, 'val', cls))).sort();
    for (const [dir, picked] of [[val, names.slice(0, 4)], [locked, names.slice(4, 6)]] as const) {
      await fsp.mkdir(path.join(dir, cls), { recursive: true });
      for (const n of picked) await fsp.copyFile(path.join(data.dir, 'val', cls, n), path.join(dir, cls, n));
    }
  }
});

test('evaluate --out writes report.json and a self-contained report.html; plain output is unchanged', { skip: data.skip }, async () => {
  const out = path.join(tmp.dir, 'report');
  const r = await cxr(['evaluate', val, '--model', 'tiny', '--out', out], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^tiny v1 on .*: n=8 \(4 PNEUMONIA\), threshold 0\.500\n {2}AUC {9}/);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
  assert.equal(report.cases.length, 8);
  assert.equal(Object.values(report.cells as Record<string, unknown[]>).reduce((s, c) => s + c.length, 0), 8);
  const html = readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /Content-Security-Policy/);
  assert.match(html, /id="chart-confusion"><svg/);
  assert.deepEqual(report.formSignals, [], 'four images per class are too few to judge the files\' form');
  assert.doesNotMatch(html, /Form of the files/);
});

test('evaluate reports what the files\' form alone scores, and notes a flagged property the model can see', { skip: data.skip }, async () => {
  const out = path.join(tmp.dir, 'report-form');
  const r = await cxr(['evaluate', path.join(data.dir, 'val'), '--model', 'tiny', '--out', out], env);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
  const aspect = report.formSignals.find((s: { trait: string }) => s.trait === 'aspect ratio');
  assert.ok(aspect.flagged && aspect.separation > 0.9, JSON.stringify(aspect));
  // The tiny model stretches its input, so it sees the aspect ratio; it never sees file size.
  assert.match(r.stderr, /^note: in these images, aspect ratio alone separates NORMAL from PNEUMONIA with AUC 0\.95 .*squeeze.*compare its AUC alone \(0\.95\) with the model's \(its AUC with the aspect ratio held fixed: not judged, too few comparable pairs \(\d+\) within its \d bins\)$/m);
  // Held fixed, 16 images leave too few NORMAL–PNEUMONIA pairs within a bin of the aspect ratio for an AUC.
  const held = report.heldFixed.find((h: { trait: string }) => h.trait === 'aspect ratio');
  assert.equal(held.auc, null);
  assert.ok(held.pairs < 20 && held.bins >= 2, JSON.stringify(held));
  assert.deepEqual(report.heldFixed.map((h: { trait: string }) => h.trait), report.formSignals.filter((s: { flagged: boolean }) => s.flagged).map((s: { trait: string }) => s.trait));
  assert.doesNotMatch(r.stderr, /note: in these images, file size/);
  const html = readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /<h2>Form of the files<\/h2>/);
  assert.match(html, /<tr class="warning"><td>aspect ratio !<\/td><td>0\.95\d*<\/td><td>1\.22<\/td><td>1\.50<\/td><td>yes<\/td><td>too few pairs \(\d+\)<\/td><\/tr>/);
  // --tone decodes the grey levels too: two more traits, judged and held fixed like the others.
  const t = await cxr(['evaluate', path.join(data.dir, 'val'), '--model', 'tiny', '--tone', '--out', path.join(tmp.dir, 'report-tone')], env);
  assert.equal(t.code, 0, t.stderr);
  const toned = JSON.parse(readFileSync(path.join(tmp.dir, 'report-tone', 'report.json'), 'utf8'));
  assert.deepEqual(toned.formSignals.map((x: { trait: string }) => x.trait), [...report.formSignals.map((x: { trait: string }) => x.trait), 'mean grey level', 'grey-level spread']);
  const spread = toned.formSignals.find((x: { trait: string }) => x.trait === 'grey-level spread');
  assert.ok(spread.flagged, JSON.stringify(spread));
  assert.ok(toned.heldFixed.some((h: { trait: string }) => h.trait === 'grey-level spread'));
  assert.match(t.stderr, /^note: in these images, grey-level spread alone separates NORMAL from PNEUMONIA with AUC 0\.\d+/m);
  assert.match(readFileSync(path.join(tmp.dir, 'report-tone', 'report.html'), 'utf8'), /<tr[^>]*><td>mean grey level<\/td><td>0\.\d+<\/td><td>\d+\.\d<\/td><td>\d+\.\d<\/td>/);
  // Class folders named in another case are the model's classes all the same.
  const lower = path.join(tmp.dir, 'lower');
  for (const cls of ['NORMAL', 'PNEUMONIA']) await copyFolder(path.join(data.dir, 'val', cls), path.join(lower, cls.toLowerCase()));
  const l = await cxr(['evaluate', lower, '--model', 'tiny', '--out', path.join(tmp.dir, 'report-lower')], env);
  assert.equal(l.code, 0, l.stderr);
  assert.deepEqual(JSON.parse(readFileSync(path.join(tmp.dir, 'report-lower', 'report.json'), 'utf8')).formSignals, report.formSignals);
});

test('evaluate --framing scores the images framed tighter too and reports what moved', { skip: data.skip }, async () => {
  const out = path.join(tmp.dir, 'report-framing');
  const r = await cxr(['evaluate', val, '--model', 'tiny', '--framing', '1.1', '--out', out], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^framing 10 % tighter \(zoom 1\.1\): AUC \d\.\d{3} → \d\.\d{3}, sensitivity .* at 0\.500\n {2}NORMAL: \d of 4 change label, mean logit -?\d+\.\d\d → -?\d+\.\d\d; PNEUMONIA: \d of 4/m);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
  assert.equal(report.framing.n, 8);
  assert.equal(report.framing.zoom, 1.1);
  assert.notEqual(report.framing.classes.NORMAL.meanLogit.usual, report.framing.classes.NORMAL.meanLogit.zoomed, 'the tighter framing reached the model');
  assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /<h2>Framing check<\/h2>/);
  const json = await cxr(['evaluate', val, '--model', 'tiny', '--framing', '1.25', '--json'], env);
  assert.equal(JSON.parse(json.stdout).framing.zoom, 1.25);
  for (const bad of ['1', '0.9', 'x', '3']) {
    const u = await cxr(['evaluate', val, '--model', 'tiny', '--framing', bad], env);
    assert.equal(u.code, 1, bad);
    assert.match(u.stderr, /--framing .*: give the zoom, a number above 1 and at most 2/);
  }
});

test('lock-test, then threshold refuses test folders and locked files, and stores a calibrated operating point', { skip: data.skip }, async () => {
  const l = await cxr(['lock-test', locked], env);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /locked 4 images/);
  const testNamed = path.join(tmp.dir, 'test-dev');
  await copyFolder(val, testNamed);
  const t1 = await cxr(['threshold', testNamed, '--model', 'tiny'], env);
  assert.equal(t1.code, 1);
  assert.match(t1.stderr, /test folder; choose the threshold on validation data/);
  const leaky = path.join(tmp.dir, 'leaky');
  await copyFolder(val, leaky);
  await fsp.copyFile(path.join(locked, 'NORMAL', (await fsp.readdir(path.join(locked, 'NORMAL')))[0]), path.join(leaky, 'NORMAL', 'copy.jpeg'));
  const t2 = await cxr(['threshold', leaky, '--model', 'tiny'], env);
  assert.equal(t2.code, 1);
  assert.match(t2.stderr, /copy\.jpeg: this image is in the locked test set/);
  const t3 = await cxr(['threshold', val, '--model', 'tiny', '--target-sensitivity', '0.75', '--calibrate', 'platt', '--json'], env);
  assert.equal(t3.code, 0, t3.stderr);
  const md = JSON.parse(readFileSync(path.join(modelDir, 'metadata.json'), 'utf8')) as ModelMetadata;
  assert.equal(md.operatingPoint?.rule, 'target-sensitivity');
  assert.ok(md.operatingPoint!.expectedSensitivity >= 0.75);
  assert.equal(md.calibration?.method, 'platt');
  assert.equal(JSON.parse(t3.stdout).threshold, md.threshold);
  assert.match(readFileSync(path.join(modelDir, 'MODEL_CARD.md'), 'utf8'), /Operating point: rule target-sensitivity 0\.75[\s\S]*Calibration: Platt scaling/);
  const both = await cxr(['threshold', val, '--model', 'tiny', '--youden', '--target-specificity', '0.9'], env);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /only one of/);
});

test('images the model was trained or selected on: evaluate warns and flags the report, --record refuses (threshold too, for trained-on images)', { skip: data.skip }, async () => {
  const normal = path.join(val, 'NORMAL', (await fsp.readdir(path.join(val, 'NORMAL'))).sort()[0]);
  const sha = createHash('sha256').update(readFileSync(normal)).digest('hex');
  const manifestFile = path.join(modelDir, 'training-data.csv');
  writeFileSync(manifestFile, `part,label,sha256,path\r\nfit,NORMAL,${sha},/elsewhere/x.jpeg\r\n`);
  try {
    const before = readFileSync(path.join(modelDir, 'metadata.json'), 'utf8');
    const out = path.join(tmp.dir, 'report-trained');
    const e = await cxr(['evaluate', val, '--model', 'tiny', '--out', out], env);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stderr, /warning: tiny was trained on 1 of these 8 images \(e\.g\. .*NORMAL.*\): the metrics below are optimistic/);
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')).dataset.trainedOn, { images: 1, examples: [normal] });
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /Optimistic:<\/strong> the model was trained on 1 of these 8 images/);
    const rec = await cxr(['evaluate', val, '--model', 'tiny', '--record', 'mine'], env);
    assert.equal(rec.code, 1);
    assert.match(rec.stderr, /tiny was trained on this image and 0 more of this folder; metrics were not recorded as "mine"/);
    assert.equal(readFileSync(path.join(modelDir, 'metadata.json'), 'utf8'), before);
    const th = await cxr(['threshold', val, '--model', 'tiny'], env);
    assert.equal(th.code, 1);
    assert.match(th.stderr, /: tiny was trained on this image \(and 0 more of the 8 here\); choose the threshold on images it never trained on/);
  } finally {
    rmSync(manifestFile);
  }
  writeFileSync(manifestFile, `part,label,sha256,path\r\nselection,NORMAL,${sha},/elsewhere/x.jpeg\r\n`);
  try {
    const before = readFileSync(path.join(modelDir, 'metadata.json'), 'utf8');
    const out = path.join(tmp.dir, 'report-selected');
    const e = await cxr(['evaluate', val, '--model', 'tiny', '--out', out], env);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stderr, /warning: tiny's epoch and threshold were chosen on 1 of these 8 images \(its selection set, e\.g\. .*NORMAL.*\): the metrics below are optimistic/);
    assert.doesNotMatch(e.stderr, /was trained on/);
    const json = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    assert.deepEqual([json.dataset.selectedOn, json.dataset.trainedOn], [{ images: 1, examples: [normal] }, undefined]);
    assert.match(readFileSync(path.join(out, 'report.html'), 'utf8'), /Optimistic:<\/strong> the model's epoch and threshold were chosen on 1 of these 8 images/);
    const rec = await cxr(['evaluate', val, '--model', 'tiny', '--record', 'mine'], env);
    assert.equal(rec.code, 1);
    assert.match(rec.stderr, /tiny's epoch and threshold were chosen on this image and 0 more of this folder; metrics were not recorded as "mine"/);
    assert.equal(readFileSync(path.join(modelDir, 'metadata.json'), 'utf8'), before);
  } finally {
    rmSync(manifestFile);
  }
  const clean = await cxr(['evaluate', val, '--model', 'tiny', '--out', path.join(tmp.dir, 'report-clean')], env);
  assert.doesNotMatch(clean.stderr, /warning/);
  assert.match(clean.stderr, /note: training data of tiny \(no training-data\.csv\) unknown/);
  assert.equal(JSON.parse(readFileSync(path.join(tmp.dir, 'report-clean', 'report.json'), 'utf8')).dataset.trainedOn, undefined);
});
