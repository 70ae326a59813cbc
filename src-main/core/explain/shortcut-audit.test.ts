import assert from 'node:assert/strict';
import { promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildArchitecture } from '../architectures/cnn.ts';
import { initEngine } from '../engine/backend.ts';
import { realData, tempDir } from '../test-support.ts';
import { applyColormap, colormapLut } from './colormap.ts';
import type { ExplainModel } from './explain-model.ts';
import { camOnImage, type CamGrid } from './heatmap.ts';
import { auditFolder, shortcutScore } from './shortcut-audit.ts';
import { testMetadata } from './test-models.ts';

const data = realData();
const tmp = tempDir('cxr-audit-');
after(() => tmp.cleanup());

function grid(w: number, h: number, f: (x: number, y: number) => number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = f(x, y);
  return out;
}

test('shortcut score: mass in a corner, in the centre, nowhere', () => {
  const corner = shortcutScore(grid(100, 100, (x, y) => (x < 10 && y < 10 ? 1 : 0)), 100, 100);
  assert.equal(corner.outside, 1);
  assert.equal(corner.corners.topLeft, 1);
  assert.equal(corner.cornerTotal, 1);
  const centre = shortcutScore(grid(100, 100, (x, y) => (Math.abs(x - 50) < 20 && Math.abs(y - 50) < 30 ? 2 : 0)), 100, 100);
  assert.equal(centre.outside, 0);
  assert.equal(centre.cornerTotal, 0);
  const uniform = shortcutScore(grid(100, 100, () => 1), 100, 100);
  assert.ok(Math.abs(uniform.outside - (1 - 0.7 * 0.8)) < 1e-9);
  assert.ok(Math.abs(uniform.corners.bottomRight - 0.15 * 0.15) < 1e-9);
  const empty = shortcutScore(new Float32Array(16), 4, 4);
  assert.deepEqual([empty.empty, empty.outside], [true, 0]);
});

test('colour maps are perceptual: lightness rises monotonically, endpoints match matplotlib', () => {
  for (const name of ['viridis', 'inferno'] as const) {
    const lut = colormapLut(name);
    let last = -1;
    for (let i = 0; i < 256; i++) {
      const l = 0.2126 * lut[3 * i] + 0.7152 * lut[3 * i + 1] + 0.0722 * lut[3 * i + 2];
      assert.ok(l >= last - 0.5, `${name} lightness falls at ${i}`);
      last = l;
    }
  }
  const near = (got: ArrayLike<number>, want: number[]) => want.every((v, k) => Math.abs(got[k] - Math.round(255 * v)) <= 4);
  assert.ok(near(applyColormap([0], 'viridis'), [0.267, 0.005, 0.329]));
  assert.ok(near(applyColormap([1], 'viridis'), [0.993, 0.906, 0.144]));
  assert.ok(near(applyColormap([0.5], 'viridis'), [0.128, 0.567, 0.551]));
  assert.ok(near(applyColormap([1], 'inferno'), [0.988, 0.998, 0.645]));
});

test('heatmap placement follows the resize mode: stretch covers, letterbox drops padding, crop blanks the cut borders', () => {
  const base: Omit<CamGrid, 'input'> = { cam: new Float32Array(16).fill(1), width: 4, height: 4, image: { width: 200, height: 100 } };
  const at = (m: Float32Array, x: number, y: number) => m[y * 200 + x];
  const stretch = camOnImage({ ...base, input: { width: 64, height: 64, resize: 'stretch' } });
  assert.ok(stretch.every((v) => v === 1));
  const letterbox = camOnImage({ ...base, input: { width: 64, height: 64, resize: 'letterbox' } });
  assert.ok(letterbox.every((v) => v === 1));
  const crop = camOnImage({ ...base, input: { width: 64, height: 64, resize: 'crop' } });
  assert.equal(at(crop, 0, 50), 0);
  assert.equal(at(crop, 199, 50), 0);
  assert.equal(at(crop, 100, 50), 1);
  // A cam lit only in its left column lands on the left of a stretched image.
  const left = camOnImage({ ...base, cam: grid(4, 4, (x) => (x === 0 ? 1 : 0)), input: { width: 64, height: 64, resize: 'stretch' } });
  assert.ok(at(left, 5, 50) > 0.99 && at(left, 150, 50) === 0);
});

test('auditFolder: every image scored and sorted worst first; a corrupt file is a per-file failure', { skip: data.skip }, async () => {
  await initEngine({ backend: 'wasm' });
  const dir = path.join(tmp.dir, 'folder', 'sub');
  await fsp.mkdir(dir, { recursive: true });
  for (const cls of ['NORMAL', 'PNEUMONIA']) {
    const src = path.join(data.dir, 'test-dev', cls);
    const name = readdirSync(src).sort()[0];
    await fsp.copyFile(path.join(src, name), path.join(cls === 'NORMAL' ? path.dirname(dir) : dir, name));
  }
  await fsp.writeFile(path.join(dir, 'cut.jpeg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]));
  const model = buildArchitecture('seed-cnn', { inputSize: 64, filters: [4, 8], denseUnits: 8, seed: 2 });
  const ref: ExplainModel = { model, metadata: testMetadata('small', 64) };
  const seen: number[] = [];
  const r = await auditFolder(ref, path.join(tmp.dir, 'folder'), { maxOutside: 0, onProgress: (d) => seen.push(d) });
  assert.equal(r.layer, 'conv2');
  assert.equal(r.cases.length, 2);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(r.failures.length, 1);
  assert.match(r.failures[0].path, /cut\.jpeg$/);
  assert.match(r.failures[0].reason, /^cut\.jpeg: /);
  assert.ok(r.cases[0].score.outside >= r.cases[1].score.outside);
  assert.equal(r.flagged, r.cases.filter((c) => c.score.outside > 0).length);
  model.dispose();
});
