// End to end: `cxr explain` (activations, Grad-CAM, shortcut audit) with the real third-party
// fixture model imported as a model folder, and with the shipped model when it exists.
import assert from 'node:assert/strict';
import { existsSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { initEngine } from '../src-main/core/engine/backend.ts';
import { saveModel } from '../src-main/core/models/store.ts';
import { loadLayersModelFromDir } from '../src-main/core/models/tfjs-files.ts';
import { realData, tempDir, writeGreyDiagram } from '../src-main/core/test-support.ts';
import { cxr, noShippedModel } from './cli.ts';

const data = realData();
const fixture = path.join(data.dir, 'models', 'tfjs-cnn150-gray');
const noFixture = existsSync(path.join(fixture, 'model.json')) ? false : `fixture model missing at ${fixture}`;
const tmp = tempDir('cxr-explain-cli-');
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
const modelDir = path.join(tmp.dir, 'models', 'cnn150');
let spatialLayers = 0;
after(() => tmp.cleanup());

before(async () => {
  if (data.skip || noFixture) return;
  await initEngine({ backend: 'wasm' });
  const { model } = await loadLayersModelFromDir(fixture);
  spatialLayers = model.layers.filter((l) => (l.outputShape as number[]).length === 4 && l.getClassName() !== 'InputLayer').length;
  await saveModel(model, {
    schemaVersion: 1, id: 'cnn150', name: 'tfjs-cnn150-gray fixture', version: '1', created: new Date(0).toISOString(), architecture: 'third-party',
    input: { height: 150, width: 150, channels: 1, resize: 'stretch', scaling: 'scale255' }, classNames: ['NORMAL', 'PNEUMONIA'],
    positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5, thresholdChosenBy: 'fixed for tests',
  }, modelDir);
  model.dispose();
});

function firstImage(cls: string): string {
  const dir = path.join(data.dir, 'test-dev', cls);
  return path.join(dir, readdirSync(dir).sort()[0]);
}

test('explain an X-ray: one PNG grid per spatial layer, Grad-CAM overlay at the original size, raw heatmap', { skip: data.skip || noFixture }, async () => {
  const image = firstImage('NORMAL');
  const out = path.join(tmp.dir, 'explain');
  const r = await cxr(['explain', image, '--model', modelDir, '--out', out, '--opacity', '0.5'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`activations: ${spatialLayers} layer\\(s\\)`));
  assert.match(r.stdout, /grad-cam \(gradcam\) at conv2d_83 /);
  const files = readdirSync(out).sort();
  const grids = files.filter((f) => /^\d\d-.*\.png$/.test(f));
  assert.equal(grids.length, spatialLayers);
  assert.ok(files.includes('01-conv2d_80.png') && files.includes('layers.json'), files.join(', '));
  const layers = JSON.parse(readFileSync(path.join(out, 'layers.json'), 'utf8')) as { probability: number; layers: Array<{ layer: string; shape: number[] }> };
  assert.deepEqual(layers.layers[0].shape, [150, 150, 32]);
  const grid = await sharp(path.join(out, '01-conv2d_80.png')).metadata();
  assert.ok(grid.width! >= 6 * 150 && grid.height! > 6 * 150, `${grid.width}×${grid.height}`);
  const original = await sharp(image).metadata();
  for (const name of ['overlay.png', 'heatmap.png']) {
    const m = await sharp(path.join(out, name)).metadata();
    assert.deepEqual([m.width, m.height], [original.width, original.height], name);
  }
  const heat = JSON.parse(readFileSync(path.join(out, 'heatmap.json'), 'utf8')) as { width: number; height: number; cam: number[]; layer: string; probability: number; shortcut: { outside: number } };
  assert.equal(heat.probability, layers.probability, 'both from the same forward pass');
  assert.equal(heat.cam.length, heat.width * heat.height);
  assert.equal(heat.layer, 'conv2d_83');
  assert.ok(heat.shortcut.outside >= 0 && heat.shortcut.outside <= 1);
});

test('explain --audit lists cases worst first, names a corrupt file and goes on (exit 2); usage errors exit 1', { skip: data.skip || noFixture }, async () => {
  const folder = path.join(tmp.dir, 'audit');
  await fsp.mkdir(path.join(folder, 'nested'), { recursive: true });
  await fsp.copyFile(firstImage('NORMAL'), path.join(folder, 'a.jpeg'));
  await fsp.copyFile(firstImage('PNEUMONIA'), path.join(folder, 'nested', 'b.jpeg'));
  await fsp.writeFile(path.join(folder, 'nested', 'broken.png'), 'not a png');
  const report = path.join(tmp.dir, 'audit.json');
  const r = await cxr(['explain', '--audit', folder, '--model', modelDir, '--max-outside', '0', '--layer', 'conv2d_82', '--out', report], env);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stdout, /shortcut audit of 2 image\(s\) at conv2d_82/);
  assert.match(r.stderr, /error: broken\.png: /);
  const json = JSON.parse(readFileSync(report, 'utf8')) as { cases: Array<{ path: string; score: { outside: number } }>; failures: Array<{ path: string }> };
  assert.equal(json.cases.length, 2);
  assert.ok(json.cases[0].score.outside >= json.cases[1].score.outside);
  assert.equal(json.failures.length, 1);
  const bad = await cxr(['explain', firstImage('NORMAL'), '--model', modelDir, '--out', path.join(tmp.dir, 'x'), '--layers', 'no_such_layer'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /has no layer "no_such_layer"; layers with spatial maps: conv2d_80/);
});

test('explain with the shipped default model', { skip: data.skip || noShippedModel }, async () => {
  const out = path.join(tmp.dir, 'default');
  const r = await cxr(['explain', firstImage('PNEUMONIA'), '--gradcam', '--method', 'gradcam++', '--out', out], env);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(path.join(out, 'overlay.png')));
  assert.doesNotMatch(r.stderr, /unlike the chest X-rays/);
  // A picture the familiarity check would refuse in cxr classify is explained with a warning.
  const grid = path.join(tmp.dir, 'grid.png');
  await writeGreyDiagram(grid);
  const far = await cxr(['explain', grid, '--gradcam', '--out', path.join(tmp.dir, 'grid-out')], env);
  assert.equal(far.code, 0, far.stderr);
  assert.match(far.stderr, /warning: grid\.png is unlike the chest X-rays this model was trained on \(distance 0\.\d{3} from the images model default was trained on, limit 0\.377\); cxr classify would refuse it/);
  const auditDir = path.join(tmp.dir, 'audit-mixed');
  await fsp.mkdir(auditDir, { recursive: true });
  await fsp.copyFile(grid, path.join(auditDir, 'grid.png'));
  await fsp.copyFile(firstImage('PNEUMONIA'), path.join(auditDir, 'study.jpeg'));
  const report = path.join(tmp.dir, 'audit-mixed.json');
  const audit = await cxr(['explain', '--audit', auditDir, '--out', report], env);
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stderr, /warning: 1 image\(s\) are unlike the chest X-rays default was trained on \(e\.g\. \S+grid\.png: distance 0\.\d{3}/);
  const cases = (JSON.parse(readFileSync(report, 'utf8')) as { cases: Array<{ path: string; unfamiliar?: string }> }).cases;
  assert.deepEqual(cases.filter((c) => c.unfamiliar).map((c) => path.basename(c.path)), ['grid.png']);
});
