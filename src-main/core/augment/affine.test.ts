import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyAffine, drawAffine, DEFAULT_AUGMENT, type AffineDraw } from './affine.ts';

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
