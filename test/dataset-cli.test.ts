// End to end: `cxr dataset` on the real folder layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { realData } from '../src-main/core/test-support.ts';
import { cxr } from './cli.ts';

const data = realData();

test('cxr dataset reports the split/class layout and the real counts', { skip: data.skip }, async () => {
  const r = await cxr(['dataset', data.dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const scan = JSON.parse(r.stdout);
  assert.equal(scan.layout, 'split/class');
  assert.deepEqual(scan.counts['test-dev'], { NORMAL: 40, PNEUMONIA: 40 });
  assert.deepEqual(scan.counts.train, { NORMAL: 407, PNEUMONIA: 1162 });
  assert.deepEqual(scan.counts.val, { NORMAL: 8, PNEUMONIA: 8 });
  assert.equal(scan.leaks.length, 0);
});

test('cxr dataset on a missing folder says so', async () => {
  const r = await cxr(['dataset', '/no/such/folder', '--no-hash']);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /no\/such\/folder/);
});
