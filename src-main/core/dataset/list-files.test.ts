import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeNotRead, hasImageExtension, listImageFiles } from './list-files.ts';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
let tmp = '';
const at = (...p: string[]) => path.join(tmp, ...p);

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cxr-list-'));
  await mkdir(at('data/sub/deeper'), { recursive: true });
  await mkdir(at('data/.hidden-dir'));
  await mkdir(at('empty'));
  for (const f of ['b.PNG', 'a.jpg', 'notes.txt', '.hidden.jpg', 'sub/c.JPEG', 'sub/deeper/d.jpeg', '.hidden-dir/e.png']) {
    await writeFile(at('data', f), 'x');
  }
  await writeFile(at('report.pdf'), 'x');
  await symlink(at('data'), at('data/sub/loop')); // symlink back up: must not loop forever
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('listImageFiles', () => {
  test('walks recursively, sorted, image extensions in any case, hidden skipped, loops cut', async () => {
    const r = await listImageFiles([at('data')]);
    assert.deepEqual(r.files, [at('data/a.jpg'), at('data/b.PNG'), at('data/sub/c.JPEG'), at('data/sub/deeper/d.jpeg')]);
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.notRead, { '.txt': 1 }, 'files passed over are counted once (the loop is cut), hidden ones not at all');
  });

  test('a folder of DICOM files: EMPTY_FOLDER says what it holds and what to do', async () => {
    await mkdir(at('pacs/series1'), { recursive: true });
    for (const f of ['series1/1.dcm', 'series1/2.DCM', 'series1/IM0001', 'README.txt']) await writeFile(at('pacs', f), 'x');
    const r = await listImageFiles([at('pacs')]);
    assert.deepEqual(r.files, []);
    assert.deepEqual(r.notRead, { '.dcm': 2, '': 1, '.txt': 1 });
    assert.deepEqual(r.failures.map((f) => f.code), ['EMPTY_FOLDER']);
    assert.match(r.failures[0].reason, /contains no \.jpg\/\.jpeg\/\.png images; it holds 4 files that are not \.jpg\/\.jpeg\/\.png \(2 \.dcm, 1 without extension, 1 \.txt; DICOM is not read by this version: export the studies as PNG or JPEG/);
  });

  test('describeNotRead', () => {
    assert.equal(describeNotRead({}), null);
    assert.match(describeNotRead({ DICOMDIR: 1, '': 40 })!, /^41 files .*\(40 without extension, 1 DICOMDIR; DICOM is not read/);
    assert.equal(describeNotRead({ '.pdf': 1 }), '1 file that is not .jpg/.jpeg/.png (1 .pdf)');
    const many = describeNotRead({ '.a': 1, '.b': 2, '.c': 3, '.d': 4, '.e': 5, '.f': 6 })!;
    assert.match(many, /^21 files that are not .*\(6 \.f, 5 \.e, 4 \.d, 3 \.c, 2 \.b, …\)$/);
  });

  test('explicitly named files are kept whatever their extension; duplicates merged', async () => {
    const r = await listImageFiles([at('report.pdf'), at('data/a.jpg'), at('data')]);
    assert.ok(r.files.includes(at('report.pdf')));
    assert.equal(r.files.filter((f) => f === at('data/a.jpg')).length, 1);
    assert.deepEqual(r.files, [...r.files].sort());
  });

  test('symlinked folders are followed', async () => {
    await symlink(at('data/sub'), at('linked'));
    const r = await listImageFiles([at('linked')]);
    // linked → data/sub, whose `loop` leads back to data/ (a, b) and then to data/sub again (stop).
    assert.deepEqual(r.files, [at('linked/c.JPEG'), at('linked/deeper/d.jpeg'), at('linked/loop/a.jpg'), at('linked/loop/b.PNG')]);
  });

  test('missing path → NOT_FOUND, empty folder → EMPTY_FOLDER; never throws', async () => {
    const r = await listImageFiles([at('nowhere'), at('empty'), at('data/sub/deeper')]);
    assert.deepEqual(r.files, [at('data/sub/deeper/d.jpeg')]);
    assert.deepEqual(r.failures.map((f) => [f.path, f.code]), [[at('nowhere'), 'NOT_FOUND'], [at('empty'), 'EMPTY_FOLDER']]);
    assert.match(r.failures[0].reason, /no such file or folder; check the path/);
    assert.match(r.failures[1].reason, /contains no \.jpg\/\.jpeg\/\.png images/);
  });

  test('broken symlink inside a folder is reported, not fatal', async () => {
    await mkdir(at('broken'));
    await writeFile(at('broken/ok.png'), 'x');
    await symlink(at('does-not-exist'), at('broken/dangling.png'));
    const r = await listImageFiles([at('broken')]);
    assert.deepEqual(r.files, [at('broken/ok.png')]);
    assert.deepEqual(r.failures.map((f) => f.code), ['NOT_FOUND']);
    assert.match(r.failures[0].reason, /broken symlink/);
  });

  test('unreadable folder (chmod 000) → NOT_READABLE', { skip: IS_ROOT ? 'running as root: chmod 000 does not stop root reading folders' : false }, async () => {
    await mkdir(at('locked'));
    await writeFile(at('locked/x.png'), 'x');
    await chmod(at('locked'), 0o000);
    try {
      const r = await listImageFiles([at('locked')]);
      assert.deepEqual(r.files, []);
      assert.deepEqual(r.failures.map((f) => f.code), ['NOT_READABLE']);
      assert.match(r.failures[0].reason, /permission denied/);
    } finally {
      await chmod(at('locked'), 0o755);
    }
  });

  test('hasImageExtension', () => {
    assert.ok(hasImageExtension('x.JPG') && hasImageExtension('a/b.jpeg') && hasImageExtension('c.Png'));
    assert.ok(!hasImageExtension('x.dcm') && !hasImageExtension('jpg') && !hasImageExtension('x.jpg.txt'));
  });
});
