import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { chromiumSkip, openInChromium } from '../../../test/browser.ts';
import { tempDir } from '../test-support.ts';
import { framingCheck } from './framing.ts';
import { buildEvaluationReport, reportJson } from './report.ts';
import { REPORT_CSP, renderReportHtml } from './report-html.ts';
import { writeEvaluationReport } from './write-report.ts';

const md = {
  schemaVersion: 1, id: 'm', name: 'm', version: '1', created: '', architecture: 'gap-cnn',
  input: { height: 64, width: 64, channels: 1, resize: 'stretch', scaling: 'scale255' }, classNames: ['NORMAL', 'PNEUMONIA'],
  positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5, thresholdChosenBy: 'fixed <for> tests', weightsSha256: '0'.repeat(64), parameters: 1,
  training: { command: 'x', dataRoot: '/d', counts: {}, seed: 1, epochs: 2, bestEpoch: 2, backend: 'wasm', durationSeconds: 1, hyperparameters: {}, history: [{ epoch: 1, loss: 0.7, valLoss: 0.6, valAuc: 0.7 }, { epoch: 2, loss: 0.5, valLoss: 0.5, valAuc: 0.8 }] },
} as ModelMetadata;
const tmp = tempDir();
after(() => tmp.cleanup());

const sample = () => buildEvaluationReport({
  metadata: md, name: 'unit', folder: '/data/x',
  paths: ['a.png', 'b.png', 'c.png', 'd.png', 'e<script>.png'], labels: [1, 1, 0, 0, 1], probabilities: [0.9, 0.3, 0.6, 0.1, 0.5],
});

test('report: every case sits in its confusion cell; metrics and curves agree', () => {
  const r = sample();
  assert.deepEqual(r.confusion, { tp: 2, fn: 1, fp: 1, tn: 1 });
  assert.deepEqual(r.cells.FN.map((c) => c.path), ['b.png']);
  assert.deepEqual(r.cells.TP.map((c) => c.path), ['a.png', 'e<script>.png']);
  assert.deepEqual(r.cells.FP.map((c) => [c.path, c.truth]), [['c.png', 'NORMAL']]);
  assert.equal(r.cases.length, 5);
  assert.equal(r.metrics.auc.value, 4 / 6); // pairs won: .9>.6, .9>.1, .3>.1, .5>.1
  assert.equal(r.roc.at(-1)?.tpr, 1);
  assert.equal(r.trainingHistory.length, 2);
  const json = JSON.parse(reportJson(r));
  assert.equal(json.roc[0].threshold, null, 'Infinity is written as null');
});

test('report: all-one-class and empty folders give NaN metrics written as null, not a crash', async () => {
  const one = buildEvaluationReport({ metadata: md, name: 'one', folder: '/x', paths: ['a', 'b'], labels: [0, 0], probabilities: [0.2, 0.7] });
  assert.ok(Number.isNaN(one.metrics.auc.value));
  assert.deepEqual(one.roc, []);
  assert.equal(JSON.parse(reportJson(one)).metrics.sensitivity.value, null);
  const empty = buildEvaluationReport({ metadata: md, name: 'empty', folder: '/x', paths: [], labels: [], probabilities: [] });
  assert.equal(empty.dataset.n, 0);
  assert.match(await renderReportHtml(empty), /n\/a/);
});

test('report.html is self-contained: CSP meta, inline SVG charts, no scripts or external URLs, escaped paths', async () => {
  const { json, html } = await writeEvaluationReport(path.join(tmp.dir, 'out'), sample());
  assert.ok(existsSync(json));
  const text = readFileSync(html, 'utf8');
  assert.ok(text.includes(`content="${REPORT_CSP}"`));
  for (const c of ['roc', 'pr', 'reliability', 'confusion', 'training']) assert.match(text, new RegExp(`id="chart-${c}"><svg`), c);
  for (const series of ['training loss', 'selection loss', 'selection AUC']) assert.ok(text.includes(`>${series}</text>`), `legend names ${series}`);
  assert.ok(!/<script/i.test(text), 'no script elements');
  assert.ok(text.includes('e&lt;script&gt;.png'));
  const urls = (text.match(/(?:https?:)?\/\/[^\s"')<]+/g) ?? []).filter((u) => !u.startsWith('http://www.w3.org/'));
  assert.deepEqual(urls, [], 'no external URLs');
  assert.doesNotMatch(text, /Form of the files/, 'no section when the form was not measured');
  const ids = [...text.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'element ids are unique across charts');
});

test('report.html opens in headless Chromium without console errors', { skip: chromiumSkip }, async () => {
  const flagged = { ...sample() };
  flagged.dataset = { ...flagged.dataset, trainedOn: { images: 1, examples: ['e<script>.png'] } };
  const { html } = await writeEvaluationReport(path.join(tmp.dir, 'browser'), flagged);
  const problems = await openInChromium(html, async (page) => {
    assert.equal(await page.locator('svg').count() >= 5, true);
    assert.match(await page.locator('p.warning').innerText(), /Optimistic: the model was trained on 1 of these 5 images \(e\.g\. e<script>\.png\)/);
  });
  assert.deepEqual(problems, []);
});

test('report.html shows the files\' form as baselines, flagged rows marked, with what the model can see', async () => {
  const formSignals = [
    { trait: 'file size' as const, auc: 0.1, separation: 0.9, higherIn: 'NORMAL', medians: { NORMAL: 250_000, PNEUMONIA: 70_000 }, flagged: true },
    { trait: 'aspect ratio' as const, auc: 0.6, separation: 0.6, higherIn: 'PNEUMONIA', medians: { NORMAL: 1.2, PNEUMONIA: 1.3 }, flagged: false },
  ];
  const heldFixed = [{ trait: 'file size' as const, bins: 6, auc: 0.875, pairs: 40, pairShare: 0.25 }];
  const r = buildEvaluationReport({ metadata: md, name: 'unit', folder: '/x', paths: ['a', 'b'], labels: [0, 1], probabilities: [0.2, 0.7], formSignals, heldFixed });
  assert.deepEqual(r.model.input, { resize: 'stretch', channels: 1 });
  assert.deepEqual(JSON.parse(reportJson(r)).formSignals, formSignals);
  assert.deepEqual(JSON.parse(reportJson(r)).heldFixed, heldFixed);
  const html = await renderReportHtml(r);
  assert.match(html, /<h2>Form of the files<\/h2>/);
  assert.match(html, /<tr class="warning"><td>file size !<\/td><td>0\.9\d*<\/td><td>244 KiB<\/td><td>68 KiB<\/td><td>no<\/td><td>0\.875 \(6 bins, 25 % of pairs\)<\/td><\/tr>/);
  assert.match(html, /<tr><td>aspect ratio<\/td><td>0\.6\d*<\/td><td>1\.20<\/td><td>1\.30<\/td><td>yes<\/td><td><\/td><\/tr>/);
  assert.deepEqual(sample().heldFixed, []);
  // The model's tone normalisation reaches the report: an equalizing model does not see the mean grey level.
  const grey = [{ trait: 'mean grey level' as const, auc: 0.2, separation: 0.8, higherIn: 'NORMAL', medians: { NORMAL: 160, PNEUMONIA: 130 }, flagged: true }];
  const eq = buildEvaluationReport({ metadata: { ...md, input: { ...md.input, tone: 'equalize' } }, name: 'unit', folder: '/x', paths: ['a', 'b'], labels: [0, 1], probabilities: [0.2, 0.7], formSignals: grey });
  assert.deepEqual(eq.model.input, { resize: 'stretch', channels: 1, tone: 'equalize' });
  assert.match(await renderReportHtml(eq), /<tr class="warning"><td>mean grey level !<\/td><td>0\.8\d*<\/td><td>160\.0<\/td><td>130\.0<\/td><td>no<\/td>/);
});

test('report.html shows the framing check when it was run, and nothing of it otherwise', async () => {
  const framing = framingCheck([{ path: 'a', label: 0, probability: 0.2 }, { path: 'b', label: 1, probability: 0.8 }], [{ path: 'a', probability: 0.6 }, { path: 'b', probability: 0.9 }], 0.5, 1.1, ['NORMAL', 'PNEUMONIA']);
  const r = buildEvaluationReport({ metadata: md, name: 'unit', folder: '/x', paths: ['a', 'b'], labels: [0, 1], probabilities: [0.2, 0.8], framing });
  assert.equal(JSON.parse(reportJson(r)).framing.classes.NORMAL.flips, 1);
  const html = await renderReportHtml(r);
  assert.match(html, /<h2>Framing check<\/h2>\n<p>The same 2 images with each brought to 1\.1 times the input size and its centre kept \(10 % tighter/);
  assert.match(html, /<tr><td>specificity<\/td><td>1\.000<\/td><td>0\.000<\/td><\/tr>/);
  assert.match(html, /<li>NORMAL: 1 of 1 change label at 0\.500; mean logit -1\.386 → 0\.405<\/li>/);
  assert.equal(sample().framing, null);
  assert.doesNotMatch(await renderReportHtml(sample()), /Framing check/);
});
