import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scanDataset } from './scan.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DATA = path.resolve(REPO, '../shared/data');
const NO_DATA = existsSync(path.join(DATA, 'train')) ? false : `real data not found at ${DATA}; skipping real-data tests`;

let tmp = '';
const at = (...p: string[]) => path.join(tmp, ...p);
async function put(rel: string, content: string): Promise<void> {
  await mkdir(path.dirname(at(rel)), { recursive: true });
  await writeFile(at(rel), content);
}

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cxr-scan-'));
  // split/class
  await put('split/Train/NORMAL/a.jpg', 'image-a');
  await put('split/Train/NORMAL/a2.jpg', 'image-a2');
  await put('split/Train/PNEUMONIA/b.jpg', 'image-b');
  await put('split/Train/PNEUMONIA/b-copy.jpeg', 'image-b'); // duplicate inside one split
  await put('split/val/NORMAL/c.png', 'image-a'); // same bytes as Train/NORMAL/a.jpg: a leak
  await put('split/val/PNEUMONIA/notes.txt', 'not an image');
  await mkdir(at('split/test/NORMAL'), { recursive: true }); // empty class folder
  await put('split/models/readme.md', 'ignored');
  // class
  await put('class/NORMAL/x.jpg', 'x');
  await put('class/PNEUMONIA/y.jpg', 'y');
  await put('class/PNEUMONIA/z.jpg', 'x'); // same bytes, different label
  await put('class/loose.png', 'loose');
  // flat
  await put('flat/1.jpg', '1');
  await put('flat/2.PNG', '2');
  await put('flat/more/3.jpeg', '3');
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('scanDataset', () => {
  test('split/class layout: counts, duplicates, cross-split leaks, empty folders, ignored entries', async () => {
    const progress: Array<[number, number]> = [];
    const s = await scanDataset(at('split'), { onProgress: (d, t) => progress.push([d, t]), concurrency: 2 });
    assert.equal(s.layout, 'split/class');
    assert.equal(s.items.length, 5);
    assert.deepEqual(s.counts, {
      all: { NORMAL: 3, PNEUMONIA: 2 },
      train: { NORMAL: 2, PNEUMONIA: 2 },
      val: { NORMAL: 1, PNEUMONIA: 0 },
      test: { NORMAL: 0 },
    });
    const a = s.items.find((i) => i.path === at('split/Train/NORMAL/a.jpg'));
    assert.deepEqual(a && { split: a.split, label: a.label, bytes: a.bytes }, { split: 'train', label: 'NORMAL', bytes: 7 });
    assert.match(a?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(s.duplicates.length, 2);
    assert.deepEqual(s.leaks.map((g) => [g.files, g.splits]), [[[at('split/Train/NORMAL/a.jpg'), at('split/val/NORMAL/c.png')], ['train', 'val']]]);
    assert.deepEqual(s.unreadable.map((f) => [f.path, f.code]), [
      [at('split/test/NORMAL'), 'EMPTY_FOLDER'],
      [at('split/val/PNEUMONIA'), 'EMPTY_FOLDER'],
    ]);
    assert.deepEqual(s.ignored, [at('split/models')]);
    assert.equal(progress.length, 5);
    assert.deepEqual(progress.at(-1), [5, 5]);
  });

  test('class layout: labels from folders, loose files unlabelled, label conflicts visible', async () => {
    const s = await scanDataset(at('class'));
    assert.equal(s.layout, 'class');
    assert.deepEqual(s.counts, { all: { NORMAL: 1, PNEUMONIA: 2, unlabelled: 1 } });
    assert.ok(s.items.every((i) => i.split === null));
    assert.deepEqual(s.duplicates.map((g) => g.labels), [['NORMAL', 'PNEUMONIA']]);
    assert.deepEqual(s.leaks, []);
  });

  test('flat layout, recursive; hash: false skips hashing', async () => {
    const s = await scanDataset(at('flat/more/..'), { hash: false });
    assert.equal(s.layout, 'class'); // a sub-folder with images reads as a class
    const flat = await scanDataset(at('flat/more'), { hash: false });
    assert.equal(flat.layout, 'flat');
    assert.deepEqual(flat.counts, { all: { unlabelled: 1 } });
    assert.equal(flat.items[0].sha256, undefined);
    assert.deepEqual(flat.duplicates, []);
  });

  test('missing root: reported, not thrown', async () => {
    const s = await scanDataset(at('nowhere'));
    assert.deepEqual(s.items, []);
    assert.deepEqual(s.unreadable.map((f) => f.code), ['NOT_FOUND']);
  });

  test('real data: split/class with the documented counts', { skip: NO_DATA }, async (t) => {
    const t0 = performance.now();
    const s = await scanDataset(DATA);
    t.diagnostic(`scanned and hashed ${s.items.length} files in ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(s.layout, 'split/class');
    assert.deepEqual(s.counts.train, { NORMAL: 407, PNEUMONIA: 1162 });
    assert.deepEqual(s.counts.val, { NORMAL: 8, PNEUMONIA: 8 });
    assert.deepEqual(s.counts['test-dev'], { NORMAL: 40, PNEUMONIA: 40 });
    assert.deepEqual(s.counts.all, { NORMAL: 455, PNEUMONIA: 1210 });
    assert.deepEqual(s.unreadable, []);
    assert.ok(s.ignored.some((p) => p.endsWith('models')), `ignored ${s.ignored.join(', ')}`);
    t.diagnostic(`duplicates: ${s.duplicates.length} (${s.duplicates.map((g) => g.files.map((f) => path.relative(DATA, f)).join(' = ')).join('; ')}); leaks: ${s.leaks.length}`);
  });
});
