// End to end: `cxr compare` of two tiny models trained with the real CLI, on the 16 real val images (+ one corrupt file).
import assert from 'node:assert/strict';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { copyFolder, realData, tempDir } from '../src-main/core/test-support.ts';
import { chromiumSkip, openInChromium } from './browser.ts';
import { cxr } from './cli.ts';

const data = realData();
const tmp = tempDir('cxr-compare-');
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
const folder = path.join(tmp.dir, 'val');
const out = path.join(tmp.dir, 'report');
let json: any;
after(() => tmp.cleanup());

before(async () => {
  if (data.skip) return;
  for (const [id, seed] of [['a', '42'], ['b', '7']]) {
    const t = await cxr(['train', data.dir, '--id', id, '--seed', seed, '--max-per-class', '12', '--epochs', '1', '--input-size', '64', '--out', path.join(tmp.dir, id)], env);
    assert.equal(t.code, 0, t.stderr);
  }
  await copyFolder(path.join(data.dir, 'val'), folder);
  await fsp.writeFile(path.join(folder, 'NORMAL', 'broken.jpeg'), 'not a jpeg');
});

test('compare refuses fewer than two models or a missing --on', async () => {
  const one = await cxr(['compare', 'a', '--on', folder], env);
  assert.equal(one.code, 1);
  assert.match(one.stderr, /at least two models/);
  const noOn = await cxr(['compare', 'a', 'b'], env);
  assert.equal(noOn.code, 1);
  assert.match(noOn.stderr, /--on <labelled-folder> is required/);
});

test('compare two models: metrics side by side, McNemar, disagreements, failures left out, compare.json + compare.html', { skip: data.skip }, async () => {
  const r = await cxr(['compare', path.join(tmp.dir, 'a'), path.join(tmp.dir, 'b'), '--on', folder, '--out', out, '--json'], env);
  assert.equal(r.code, 2, r.stderr); // the corrupt file is a partial failure
  assert.match(r.stderr, /left out .*broken\.jpeg: failed for a, b/);
  json = JSON.parse(r.stdout);
  assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'compare.json'), 'utf8')).models.map((m: { name: string }) => m.name), ['a', 'b']);
  assert.deepEqual(json.models.map((m: { name: string }) => m.name), ['a', 'b']);
  assert.equal(json.pairedCases, 16);
  assert.equal(json.excluded.length, 1);
  for (const m of json.models) {
    assert.equal(m.metrics.n, 16);
    assert.ok(m.metrics.auc.value >= 0 && m.metrics.auc.value <= 1);
    assert.ok(m.roc.length >= 2);
    assert.equal(m.trainedOn, 0, 'both were selected, not fitted, on val/');
  }
  assert.equal(json.mcnemar.length, 1);
  const t = json.mcnemar[0];
  assert.deepEqual([t.modelA, t.modelB], ['a', 'b']);
  assert.equal(t.b + t.c + t.bothRight + t.bothWrong, 16);
  assert.equal(t.method, t.b + t.c === 0 ? 'none' : 'exact-binomial');
  assert.ok(t.pValue > 0 && t.pValue <= 1);
  for (const d of json.disagreements) assert.notEqual(d.byModel[0].label, d.byModel[1].label);
  const html = readFileSync(path.join(out, 'compare.html'), 'utf8');
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /id="chart-roc"><svg/);
  assert.match(html, /McNemar/);
  const urls = (html.match(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^"'\s)]*/gi) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg' && u !== 'http://www.w3.org/1999/xlink');
  assert.deepEqual(urls, [], 'compare.html must not refer to external URLs');
});

test('a model fitted on some of the compared images is flagged in the output, JSON and HTML', { skip: data.skip }, async () => {
  const rows = readFileSync(path.join(tmp.dir, 'a', 'training-data.csv'), 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
  const fit = rows.find((r) => r[0] === 'fit' && r[1] === 'NORMAL')!;
  const mixed = path.join(tmp.dir, 'mixed');
  await copyFolder(path.join(data.dir, 'val'), mixed);
  await fsp.copyFile(fit[3], path.join(mixed, 'NORMAL', 'from-train.jpeg'));
  const mixedOut = path.join(tmp.dir, 'report-mixed');
  const r = await cxr(['compare', path.join(tmp.dir, 'a'), path.join(tmp.dir, 'b'), '--on', mixed, '--out', mixedOut, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: a was trained on 1 of these 17 images: its figures are optimistic/);
  const c = JSON.parse(r.stdout);
  assert.deepEqual(c.models.map((m: { trainedOn: number }) => m.trainedOn), [1, 0]);
  assert.match(readFileSync(path.join(mixedOut, 'compare.html'), 'utf8'), /<strong>1: optimistic<\/strong>/);
});

test('compare.html opens in headless Chromium without console errors', { skip: data.skip || chromiumSkip }, async () => {
  const html = path.join(out, 'compare.html');
  assert.ok(existsSync(html), 'run the compare test first (it writes compare.html)');
  const problems = await openInChromium(html, async (page) => {
    assert.equal(await page.locator('#chart-roc svg').count(), 1);
  });
  assert.deepEqual(problems, []);
});
