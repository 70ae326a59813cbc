import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { decodeImage, imageErrorFromSharp, MAX_PIXELS } from './decode.ts';
import { ImageError, imageErrorFromFsError, toFileFailure } from './image-error.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DATA = path.resolve(REPO, '../shared/data');
const HAVE_DATA = existsSync(path.join(DATA, 'test-dev'));
const NO_DATA = HAVE_DATA ? false : `real data not found at ${DATA}; skipping real-data tests`;
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

let tmp = '';
const at = (name: string) => path.join(tmp, name);

async function rejectsWith(file: string, code: string, messageIncludes?: RegExp): Promise<ImageError> {
  try {
    await decodeImage(file);
  } catch (e) {
    assert.ok(e instanceof ImageError, `expected ImageError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(`${path.basename(file)}: `), e.message);
    if (messageIncludes) assert.match(e.message, messageIncludes);
    return e;
  }
  assert.fail(`${file} decoded, expected ${code}`);
}

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cxr-decode-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('decodeImage: good inputs', () => {
  test('8-bit grey PNG stays 1 channel with exact values', async () => {
    const px = Buffer.from(Array.from({ length: 20 * 16 }, (_, i) => i % 256));
    await sharp(px, { raw: { width: 20, height: 16, channels: 1 } }).toColourspace('b-w').png().toFile(at('grey.png'));
    const d = await decodeImage(at('grey.png'));
    assert.deepEqual([d.width, d.height, d.channels, d.sourceFormat, d.sourceBitDepth, d.sourceChannels], [20, 16, 1, 'png', 8, 1]);
    assert.deepEqual([...d.data], [...px]);
  });

  test('16-bit grey PNG is scaled to 8 bits, not clipped', async () => {
    const values = [0, 257, 32768, 65535, 1000, 60000];
    const px = new Uint16Array(16 * 16);
    values.forEach((v, i) => (px[i] = v));
    await sharp(px, { raw: { width: 16, height: 16, channels: 1 } }).toColourspace('grey16').png().toFile(at('g16.png'));
    const meta = await sharp(at('g16.png')).metadata();
    assert.equal(meta.depth, 'ushort', 'fixture should really be 16-bit');
    const d = await decodeImage(at('g16.png'));
    assert.equal(d.channels, 1);
    assert.equal(d.sourceBitDepth, 16);
    const got = [...d.data.subarray(0, values.length)];
    values.forEach((v, i) => assert.ok(Math.abs(got[i] - v / 257) <= 1, `16-bit ${v} → ${got[i]}, expected ≈${(v / 257).toFixed(1)}`));
  });

  test('16-bit RGB PNG is scaled to 8 bits', async () => {
    const px = new Uint16Array(16 * 16 * 3).fill(32896); // 128 × 257
    px[0] = 65535;
    await sharp(px, { raw: { width: 16, height: 16, channels: 3 } }).toColourspace('rgb16').png().toFile(at('rgb16.png'));
    const d = await decodeImage(at('rgb16.png'));
    assert.deepEqual([d.channels, d.sourceBitDepth, d.sourceChannels], [3, 16, 3]);
    assert.deepEqual([...d.data.subarray(0, 6)], [255, 128, 128, 128, 128, 128]);
  });

  test('RGBA PNG: alpha flattened onto black, 3 channels', async () => {
    const px = Buffer.alloc(16 * 16 * 4);
    px.set([255, 0, 0, 255, 0, 255, 0, 0, 200, 100, 50, 128]);
    await sharp(px, { raw: { width: 16, height: 16, channels: 4 } }).png().toFile(at('rgba.png'));
    const d = await decodeImage(at('rgba.png'));
    assert.deepEqual([d.channels, d.sourceChannels], [3, 4]);
    assert.deepEqual([...d.data.subarray(0, 9)], [255, 0, 0, 0, 0, 0, 100, 50, 25]);
  });

  test('grey+alpha PNG: 1 channel, alpha flattened onto black', async () => {
    const px = Buffer.alloc(16 * 16 * 2);
    px.set([200, 255, 200, 0, 100, 128]);
    await sharp(px, { raw: { width: 16, height: 16, channels: 2 } }).toColourspace('b-w').png().toFile(at('ga.png'));
    assert.equal((await sharp(at('ga.png')).metadata()).channels, 2, 'fixture should be grey+alpha');
    const d = await decodeImage(at('ga.png'));
    assert.deepEqual([d.channels, d.sourceChannels], [1, 2]);
    assert.deepEqual([...d.data.subarray(0, 3)], [200, 0, 50]);
  });

  test('EXIF orientation 6 is applied (width and height swap)', async () => {
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ffffff' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(at('exif6.jpg'));
    assert.equal((await sharp(at('exif6.jpg')).metadata()).orientation, 6);
    const d = await decodeImage(at('exif6.jpg'));
    assert.deepEqual([d.width, d.height], [20, 40]);
    assert.equal(d.data.length, 20 * 40 * d.channels);
  });

  test('an embedded ICC profile is ignored: stored grey values come back unchanged', { skip: HAVE_DATA && existsSync(path.join(DATA, 'val/NORMAL/NORMAL2-IM-1427-0001.jpeg')) ? false : NO_DATA || 'val/NORMAL/NORMAL2-IM-1427-0001.jpeg not found' }, async () => {
    // The Kermany val/NORMAL originals carry an Apple grey ICC profile; libvips applies it unless told not to.
    const icc = (await sharp(path.join(DATA, 'val/NORMAL/NORMAL2-IM-1427-0001.jpeg')).metadata()).icc;
    assert.ok(icc, 'fixture should carry an ICC profile');
    const px = new Uint8Array(32 * 32).map((_, i) => (i * 7) % 256);
    const png = await sharp(px, { raw: { width: 32, height: 32, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    // Insert an iCCP chunk after IHDR (8-byte signature + 25-byte IHDR chunk) without touching the pixels.
    const body = Buffer.concat([Buffer.from('iCCP'), Buffer.from('grey\0\0', 'latin1'), deflateSync(icc)]);
    const chunk = Buffer.alloc(body.length + 8);
    chunk.writeUInt32BE(body.length - 4, 0);
    body.copy(chunk, 4);
    chunk.writeUInt32BE(crc32(body), body.length + 4);
    await writeFile(at('icc.png'), Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]));
    assert.ok((await sharp(at('icc.png')).metadata()).icc, 'the PNG should embed the profile');
    const img = await decodeImage(at('icc.png'));
    assert.equal(img.channels, 1);
    assert.deepEqual(Array.from(img.data), Array.from(px));
  });

  test('real test-dev JPEG decodes as 1-channel 8-bit', { skip: NO_DATA }, async () => {
    const dir = path.join(DATA, 'test-dev/NORMAL');
    const file = path.join(dir, (await readdir(dir)).sort()[0]);
    const d = await decodeImage(file);
    assert.equal(d.sourceFormat, 'jpeg');
    assert.equal(d.channels, 1);
    assert.equal(d.data.length, d.width * d.height);
    assert.ok(d.width >= 700, `width ${d.width}`);
  });
});

describe('decodeImage: bad inputs give clear errors', () => {
  test('missing file → NOT_FOUND', async () => {
    await rejectsWith(at('nope.jpg'), 'NOT_FOUND', /does not exist/);
  });

  test('directory → IS_DIRECTORY', async () => {
    await mkdir(at('a-folder.jpg'));
    await rejectsWith(at('a-folder.jpg'), 'IS_DIRECTORY', /folder/);
  });

  test('empty file → EMPTY', async () => {
    await writeFile(at('empty.jpg'), '');
    await rejectsWith(at('empty.jpg'), 'EMPTY', /empty/);
  });

  test('text named .jpg → NOT_AN_IMAGE', async () => {
    await writeFile(at('notes.jpg'), 'Patient notes: this is not an image.\n'.repeat(20));
    await rejectsWith(at('notes.jpg'), 'NOT_AN_IMAGE', /not an image/);
  });

  test('synthetic JPEG cut in half → TRUNCATED', async () => {
    const jpg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    await writeFile(at('synth-half.jpg'), jpg.subarray(0, jpg.length >> 1));
    await rejectsWith(at('synth-half.jpg'), 'TRUNCATED', /truncated \(JPEG data ends early\); re-export/);
  });

  test('JPEG missing only its end marker → TRUNCATED', async () => {
    const jpg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#404040' } }).jpeg().toBuffer();
    await writeFile(at('no-eoi.jpg'), jpg.subarray(0, jpg.length - 2));
    await rejectsWith(at('no-eoi.jpg'), 'TRUNCATED');
  });

  test('real test-dev JPEG cut in half → TRUNCATED', { skip: NO_DATA }, async () => {
    const dir = path.join(DATA, 'test-dev/PNEUMONIA');
    const bytes = await readFile(path.join(dir, (await readdir(dir)).sort()[0]));
    await writeFile(at('scan1.jpg'), bytes.subarray(0, bytes.length >> 1));
    const e = await rejectsWith(at('scan1.jpg'), 'TRUNCATED');
    assert.equal(e.message, 'scan1.jpg: the file is truncated (JPEG data ends early); re-export or re-copy it from the PACS');
  });

  test('PNG cut in half → TRUNCATED', async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).png().toBuffer();
    await writeFile(at('half.png'), png.subarray(0, png.length >> 1));
    await rejectsWith(at('half.png'), 'TRUNCATED', /PNG data ends early/);
  });

  test('1×1 PNG → TOO_SMALL', async () => {
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000000' } }).png().toFile(at('dot.png'));
    await rejectsWith(at('dot.png'), 'TOO_SMALL', /too small to be a chest X-ray \(1×1 px/);
  });

  test('over 50 MP → TOO_LARGE (from the header, before decoding)', async () => {
    const t0 = Date.now();
    await sharp({ create: { width: 8000, height: 7000, channels: 3, background: '#000000' } })
      .greyscale()
      .png({ compressionLevel: 1 })
      .toFile(at('huge.png'));
    assert.ok(8000 * 7000 > MAX_PIXELS);
    const t1 = Date.now();
    await rejectsWith(at('huge.png'), 'TOO_LARGE', /8000×7000 px = 56\.0 MP, limit 50 MP/);
    assert.ok(Date.now() - t1 < 1000, `rejecting took ${Date.now() - t1} ms (fixture ${t1 - t0} ms)`);
  });

  test('GIF → UNSUPPORTED_FORMAT', async () => {
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#000000' } }).gif().toFile(at('anim.gif'));
    await rejectsWith(at('anim.gif'), 'UNSUPPORTED_FORMAT', /GIF image.*convert it to PNG or JPEG/);
  });

  test('DICOM, with its DICM preamble or (older CR files) without, named .dcm → UNSUPPORTED_FORMAT saying what to do', async () => {
    const part10 = new Uint8Array(256);
    part10.set([0x44, 0x49, 0x43, 0x4d], 128); // 'DICM'
    await writeFile(at('study.bin'), part10);
    await rejectsWith(at('study.bin'), 'UNSUPPORTED_FORMAT', /DICOM file, which this version does not read: export the study from the PACS or DICOM viewer/);
    await writeFile(at('old-cr.dcm'), new Uint8Array([0x08, 0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x00, ...new Array(120).fill(0x20)]));
    await rejectsWith(at('old-cr.dcm'), 'UNSUPPORTED_FORMAT', /DICOM file/);
    await writeFile(at('old-cr.txt'), new Uint8Array([0x08, 0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x00, ...new Array(120).fill(0x20)]));
    await rejectsWith(at('old-cr.txt'), 'NOT_AN_IMAGE', /not an image/);
  });

  test('unreadable file (chmod 000) → NOT_READABLE', { skip: IS_ROOT ? 'running as root: chmod 000 does not stop root reading (mapping tested below)' : false }, async () => {
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#000000' } }).png().toFile(at('locked.png'));
    await chmod(at('locked.png'), 0o000);
    try {
      await rejectsWith(at('locked.png'), 'NOT_READABLE', /permission denied/);
    } finally {
      await chmod(at('locked.png'), 0o644);
    }
  });

  test('EACCES maps to NOT_READABLE (works as root too)', () => {
    const err = Object.assign(new Error("EACCES: permission denied, open 'x.png'"), { code: 'EACCES' });
    const e = imageErrorFromFsError(err, '/data/x.png');
    assert.equal(e?.code, 'NOT_READABLE');
    assert.match(e!.message, /^x\.png: permission denied; check the file permissions/);
  });
});

describe('toFileFailure', () => {
  test('ImageError keeps its code and message', () => {
    const f = toFileFailure(new ImageError('/x/scan1.jpg', 'TRUNCATED', 'JPEG data ends early'), '/x/scan1.jpg');
    assert.deepEqual(f, {
      path: '/x/scan1.jpg',
      code: 'TRUNCATED',
      reason: 'scan1.jpg: the file is truncated (JPEG data ends early); re-export or re-copy it from the PACS',
    });
  });

  test('fs errors and arbitrary values become failures', () => {
    assert.equal(toFileFailure(Object.assign(new Error('x'), { code: 'ENOENT' }), 'a.png').code, 'NOT_FOUND');
    assert.deepEqual(toFileFailure(new Error('boom'), '/d/a.png'), { path: '/d/a.png', code: 'ERROR', reason: 'a.png: boom' });
    assert.deepEqual(toFileFailure('weird', 'a.png'), { path: 'a.png', code: 'ERROR', reason: 'a.png: weird' });
  });
});

describe('imageErrorFromSharp', () => {
  test('a cut JPEG is TRUNCATED even when libvips only says "Unknown error" (its error buffer is shared by threads)', async () => {
    const jpeg = new Uint8Array(await sharp({ create: { width: 64, height: 48, channels: 3, background: '#456' } }).jpeg().toBuffer());
    const cut = jpeg.subarray(0, jpeg.length >> 1);
    assert.equal(imageErrorFromSharp(new Error('Unknown error'), cut, '/x/cut.jpeg').code, 'TRUNCATED');
    assert.equal(imageErrorFromSharp(new Error('VipsJpeg: premature end of JPEG image'), cut, '/x/cut.jpeg').code, 'TRUNCATED');
    // Complete (ends with its FF D9 marker), padded or not: a decoder error there means damaged data.
    assert.equal(imageErrorFromSharp(new Error('Unknown error'), jpeg, '/x/whole.jpeg').code, 'CORRUPT');
    const padded = new Uint8Array([...jpeg, 0, 0, 0, 0]);
    assert.equal(imageErrorFromSharp(new Error('VipsJpeg: Huffman table 0x00 was not defined'), padded, '/x/padded.jpeg').code, 'CORRUPT');
  });
});
