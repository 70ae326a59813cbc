import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTone, equalizeHistogram, medianToMidGrey } from './tone.ts';

test('equalization spreads the grey levels by their cumulative share, darkest to 0 and brightest to 255', () => {
  // Four levels, equally common: cdf 2, 4, 6, 8 of n = 8; cdf_min 2 → 0, 85, 170, 255.
  assert.deepEqual(Array.from(equalizeHistogram(Uint8Array.from([100, 100, 101, 101, 102, 102, 200, 200]))), [0, 0, 85, 85, 170, 170, 255, 255]);
  // A dim and a bright version of the same picture come out the same.
  const dim = Uint8Array.from([10, 20, 20, 30, 40, 40, 40, 50]);
  const bright = Uint8Array.from(Array.from(dim, (v) => 2 * v + 100));
  assert.deepEqual(equalizeHistogram(dim), equalizeHistogram(bright));
  assert.deepEqual(Array.from(equalizeHistogram(dim)), [0, 73, 73, 109, 219, 219, 219, 255]);
});

test('a flat image and an empty one are left as they are; the input is not changed', () => {
  const flat = new Uint8Array(16).fill(77);
  assert.deepEqual(equalizeHistogram(flat), flat);
  assert.equal(equalizeHistogram(new Uint8Array(0)).length, 0);
  const src = Uint8Array.from([0, 255, 3]);
  equalizeHistogram(src);
  assert.deepEqual(Array.from(src), [0, 255, 3]);
});

test('median tone: a gamma curve brings the median grey level to 128, keeping black, white and the order of levels', () => {
  const dark = Uint8Array.from([0, 10, 32, 32, 64, 200, 255]); // median 32
  const out = medianToMidGrey(dark);
  assert.equal(out[3], 128);
  assert.equal(out[0], 0);
  assert.equal(out[6], 255);
  for (let i = 1; i < out.length; i++) assert.ok(out[i] >= out[i - 1], 'order kept');
  // γ = ln(128/255) / ln(32/255) ≈ 0.332: 64 → 255 · (64/255)^0.332 ≈ 161.
  assert.equal(out[4], Math.round(255 * (64 / 255) ** (Math.log(128 / 255) / Math.log(32 / 255))));
  assert.deepEqual(medianToMidGrey(Uint8Array.from([0, 0, 0, 9])), Uint8Array.from([0, 0, 0, 9]), 'median 0: left as it is');
  assert.deepEqual(applyTone(dark, 'median'), out);
  assert.deepEqual(applyTone(dark, 'equalize'), equalizeHistogram(dark));
  // A nearly black image is not stretched beyond γ = 1/4.
  assert.equal(medianToMidGrey(Uint8Array.from([0, 1, 1, 1, 2]))[2], Math.round(255 * (1 / 255) ** 0.25));
});
