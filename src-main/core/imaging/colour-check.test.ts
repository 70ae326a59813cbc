import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COLOUR_SPREAD, colouredShare } from './colour-check.ts';

test('colouredShare: grey and near-grey pixels count 0, a spread above COLOUR_SPREAD counts 1', () => {
  assert.equal(colouredShare(new Uint8Array([10, 20, 30]), 1), 0, 'one channel is grey');
  assert.equal(colouredShare(new Uint8Array(0), 3), 0, 'empty');
  const px = new Uint8Array([100, 100, 100, 100, 100 + COLOUR_SPREAD, 100, 0, 0, COLOUR_SPREAD + 1, 255, 0, 255]);
  assert.equal(colouredShare(px, 3), 2 / 4);
  const rgba = new Uint8Array([255, 0, 0, 255, 7, 7, 7, 0]);
  assert.equal(colouredShare(rgba, 4), 1 / 2, 'alpha is not a colour channel');
});
