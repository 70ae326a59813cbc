import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { after } from 'node:test';
import { npzBytes } from '../dataset/npz-fixture.ts';
import { readNpz } from '../dataset/npz.ts';
import { tempDir } from '../test-support.ts';
import { loadNpzTrainingData } from './npz-data.ts';

const tmp = tempDir();
after(() => tmp.cleanup());

/** n distinct 16×16 grey images: a bright square at a different place in each. */
function images(n: number, offset: number): Uint8Array {
  const out = new Uint8Array(n * 256).fill(20);
  for (let i = 0; i < n; i++) {
    const k = i + offset;
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) out[i * 256 + ((k % 3) * 4 + y) * 16 + Math.floor(k / 3) * 2 + x] = 230;
  }
  return out;
}

async function writeNpz(name: string, arrays: Record<string, { data: Uint8Array; shape: number[] }>): Promise<string> {
  const file = path.join(tmp.dir, name);
  await fsp.writeFile(file, npzBytes(arrays));
  return file;
}

test('an .npz trains on train_*, selects on val_*, never reads test_*, and leaves out the images nearest to an excluded folder', async () => {
  const train = images(6, 0);
  const file = await writeNpz('mnist.npz', {
    train_images: { data: train, shape: [6, 16, 16] },
    train_labels: { data: Uint8Array.from([0, 1, 0, 1, 0, 1]), shape: [6, 1] },
    val_images: { data: images(2, 6), shape: [2, 16, 16] },
    val_labels: { data: Uint8Array.from([1, 0]), shape: [2, 1] },
    test_images: { data: images(3, 8), shape: [3, 16, 16] },
    test_labels: { data: Uint8Array.from([7, 7, 7]), shape: [3, 1] },
  });
  assert.deepEqual(Object.keys(await readNpz(file)).sort(), ['test_images', 'test_labels', 'train_images', 'train_labels', 'val_images', 'val_labels']);
  // The folder holds a 64×64 copy of train image 4 (which the data must lose) in a split/class layout.
  const folder = path.join(tmp.dir, 'elsewhere', 'test-dev', 'NORMAL');
  await fsp.mkdir(folder, { recursive: true });
  await sharp(Buffer.from(train.subarray(4 * 256, 5 * 256)), { raw: { width: 16, height: 16, channels: 1 } }).resize(64, 64, { kernel: 'nearest' }).png().toFile(path.join(folder, 'copy.png'));
  const d = await loadNpzTrainingData(file, { excludeNear: [path.join(tmp.dir, 'elsewhere')] });
  assert.deepEqual(d.input, { height: 16, width: 16, channels: 1, resize: 'crop', scaling: 'scale255' });
  assert.deepEqual(d.fit.paths, [0, 1, 2, 3, 5].map((i) => `${file}#train[${i}]`));
  assert.deepEqual(d.fit.labels, [0, 1, 0, 1, 1]);
  assert.deepEqual(d.selection.labels, [1, 0]);
  assert.equal(d.fit.pixels[0].length, 256);
  assert.ok(Math.abs(d.fit.pixels[0][255] - 20 / 255) < 1e-6 && Math.abs(d.fit.pixels[0][0] - 230 / 255) < 1e-6, 'pixels are scaled to 0–1');
  assert.deepEqual(d.excluded, [{ folder: path.join(tmp.dir, 'elsewhere'), images: 1, dropped: 1 }]);
});

test('an .npz without val arrays, with other labels, or that is not a zip gives an error naming the file', async () => {
  const noVal = await writeNpz('noval.npz', { train_images: { data: images(2, 0), shape: [2, 16, 16] }, train_labels: { data: Uint8Array.from([0, 1]), shape: [2] } });
  await assert.rejects(loadNpzTrainingData(noVal), (e: Error) => e.message.startsWith(noVal) && /no val_images\/val_labels/.test(e.message));
  const multi = await writeNpz('multi.npz', {
    train_images: { data: images(2, 0), shape: [2, 16, 16] }, train_labels: { data: Uint8Array.from([0, 2]), shape: [2] },
    val_images: { data: images(2, 0), shape: [2, 16, 16] }, val_labels: { data: Uint8Array.from([0, 1]), shape: [2] },
  });
  await assert.rejects(loadNpzTrainingData(multi), /train_labels\[1\] is 2; only 0 \(NORMAL\) and 1 \(PNEUMONIA\)/);
  const text = path.join(tmp.dir, 'text.npz');
  await fsp.writeFile(text, 'not a zip');
  await assert.rejects(loadNpzTrainingData(text), (e: Error) => e.message.startsWith(`${text}: not a NumPy .npz archive`));
  await assert.rejects(loadNpzTrainingData(path.join(tmp.dir, 'missing.npz')), /missing\.npz: cannot read the \.npz file \(ENOENT\); check the path/);
});
