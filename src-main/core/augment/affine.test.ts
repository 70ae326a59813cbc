import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyAffine, drawAffine, DEFAULT_AUGMENT, validateAugment, type AffineDraw } from './affine.ts';

const none: AffineDraw = { angle: 0, tx: 0, ty: 0, scale: 1, brightness: 0, contrast: 1, flip: false };

function marker(h: number, w: number, y: number, x: number): Float32Array {
  const a = new Float32Array(h * w);
  a[y * w + x] = 1;
  return a;
}
const argmax = (a: Float32Array) => a.reduce((bi, v, i, arr) => (v > arr[bi] ? i : bi), 0);

test('identity leaves the image unchanged', () => {
  const src = marker(9, 9, 2, 6);
  assert.deepEqual(applyAffine(src, 9, 9, 1, none, new Float32Array(81)), src);
});

test('a 90° rotation moves a marker to where it should land', () => {
  // Centre (4,4). A marker at row 2, col 6 (dx=+2, dy=-2) rotated by +90° (counter-clockwise on screen,
  // y down) lands at dx=-2, dy=-2 → row 2, col 2.
  const out = applyAffine(marker(9, 9, 2, 6), 9, 9, 1, { ...none, angle: Math.PI / 2 }, new Float32Array(81));
  const i = argmax(out);
  assert.deepEqual([Math.floor(i / 9), i % 9], [2, 2]);
});

test('a shift moves the marker by the fraction of the size', () => {
  const out = applyAffine(marker(10, 10, 5, 5), 10, 10, 1, { ...none, tx: 0.2, ty: -0.1 }, new Float32Array(100));
  const i = argmax(out);
  assert.deepEqual([Math.floor(i / 10), i % 10], [4, 7]);
});

test('horizontal flip is off by default and draws are seeded', () => {
  assert.equal(DEFAULT_AUGMENT.horizontalFlip, false);
  let s = 1;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  for (let k = 0; k < 50; k++) {
    const d = drawAffine(DEFAULT_AUGMENT, rnd);
    assert.equal(d.flip, false);
    assert.ok(Math.abs(d.angle) <= (DEFAULT_AUGMENT.rotation * Math.PI) / 180 + 1e-12);
  }
});

test('a shear slides rows sideways in proportion to their distance from the centre', () => {
  // Centre (4,4). Inverse map: source x = x − tan(s)·(y − 4). With tan(s) = 1, the marker at
  // (row 2, col 4) is found at output x where x − (2 − 4) = 4 → x = 2.
  const out = applyAffine(marker(9, 9, 2, 4), 9, 9, 1, { ...none, shear: Math.PI / 4 }, new Float32Array(81));
  const i = argmax(out);
  assert.deepEqual([Math.floor(i / 9), i % 9], [2, 2]);
});

test('Gaussian noise has the asked standard deviation and is seeded', () => {
  const src = new Float32Array(64 * 64).fill(0.5);
  const a = applyAffine(src, 64, 64, 1, { ...none, noise: 0.1, noiseSeed: 9 }, new Float32Array(src.length));
  const b = applyAffine(src, 64, 64, 1, { ...none, noise: 0.1, noiseSeed: 9 }, new Float32Array(src.length));
  assert.deepEqual(a, b);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  assert.ok(Math.abs(mean - 0.5) < 0.01 && Math.abs(sd - 0.1) < 0.01, `mean ${mean} sd ${sd}`);
});

test('shear and noise draw only when enabled (the default ranges keep their random stream); ranges are validated', () => {
  let calls = 0;
  const rnd = () => (calls++, 0.75);
  drawAffine(DEFAULT_AUGMENT, rnd);
  assert.equal(calls, 6);
  const d = drawAffine({ ...DEFAULT_AUGMENT, shear: 10, noise: 0.05 }, rnd);
  assert.equal(calls, 14);
  assert.ok(Math.abs(d.shear! - (0.5 * 10 * Math.PI) / 180) < 1e-12);
  assert.equal(d.noise, 0.05);
  assert.throws(() => validateAugment({ ...DEFAULT_AUGMENT, shear: 90 }), /--shear must be from 0 to 45/);
  assert.throws(() => validateAugment({ ...DEFAULT_AUGMENT, noise: -1 }), /--noise/);
});
