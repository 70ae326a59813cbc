import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv } from '../history/csv.ts';
import { dataFingerprint, dataManifest } from './data-manifest.ts';

const h = (c: string) => c.repeat(64);

test('the data fingerprint ignores order and names but not content; the manifest lists every image', () => {
  assert.equal(dataFingerprint([h('a'), h('b')]), dataFingerprint([h('b'), h('a')]));
  assert.notEqual(dataFingerprint([h('a'), h('b')]), dataFingerprint([h('a'), h('c')]));
  const m = dataManifest({ fit: { sha256: [h('a'), h('b')], labels: [0, 1], paths: ['/x/a.png', '/x/b, "odd".png'] }, selection: { sha256: [h('c')], labels: [1], paths: ['/x/c.png'] } }, ['NORMAL', 'PNEUMONIA']);
  assert.deepEqual(m.summary, { fit: { files: 2, sha256: dataFingerprint([h('a'), h('b')]) }, selection: { files: 1, sha256: dataFingerprint([h('c')]) } });
  assert.deepEqual(parseCsv(m.csv).filter((r) => r.length > 1), [
    ['part', 'label', 'sha256', 'path'], ['fit', 'NORMAL', h('a'), '/x/a.png'], ['fit', 'PNEUMONIA', h('b'), '/x/b, "odd".png'], ['selection', 'PNEUMONIA', h('c'), '/x/c.png'],
  ]);
});
