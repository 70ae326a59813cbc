import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { InputSpec } from '../../../src-shared/types.ts';
import { ImageError } from './image-error.ts';
import { convertChannels, loadForModel, pixelsToFloat, resizeToSpec } from './preprocess.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DATA = path.resolve(REPO, '../shared/data');
const HAVE_DATA = existsSync(path.join(DATA, 'test-dev'));
const NO_DATA = HAVE_DATA ? false : `real data not found at ${DATA}; skipping real-data tests`;
const PARITY = path.join(DATA, 'models/keras2-h5-cnn128-rgb');
const NO_PARITY = existsSync(path.join(PARITY, 'parity-input.npy')) ? false : `PIL parity data not found at ${PARITY}; skipping`;

const spec = (o: Partial<InputSpec>): InputSpec => ({ height: 1, width: 2, channels: 1, resize: 'stretch', scaling: 'raw', ...o });
let tmp = '';
const at = (name: string) => path.join(tmp, name);

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cxr-preprocess-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('pixelsToFloat', () => {
  test('scale255 and raw', () => {
    assert.deepEqual([...pixelsToFloat(new Uint8Array([0, 255]), spec({ scaling: 'scale255' }))], [0, 1]);
    assert.deepEqual([...pixelsToFloat(new Uint8Array([0, 255]), spec({ scaling: 'raw' }))], [0, 255]);
  });

  test('samplewise: zero mean, unit std; constant image gives zeros', () => {
    const out = pixelsToFloat(new Uint8Array([10, 20, 30, 40]), spec({ width: 4, scaling: 'samplewise' }));
    const mean = out.reduce((a, b) => a + b, 0) / out.length;
    const std = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / out.length);
    assert.ok(Math.abs(mean) < 1e-6 && Math.abs(std - 1) < 1e-6, `mean ${mean} std ${std}`);
    assert.deepEqual([...pixelsToFloat(new Uint8Array([7, 7]), spec({ scaling: 'samplewise' }))], [0, 0]);
  });

  test('imagenet: RGB → BGR minus caffe means; refused for 1 channel', () => {
    const out = pixelsToFloat(new Uint8Array([10, 20, 30]), spec({ width: 1, channels: 3, scaling: 'imagenet' }));
    const expected = [30 - 103.939, 20 - 116.779, 10 - 123.68];
    expected.forEach((v, i) => assert.ok(Math.abs(out[i] - v) < 1e-4, `${out[i]} vs ${v}`));
    assert.throws(() => pixelsToFloat(new Uint8Array([1, 2]), spec({ scaling: 'imagenet' })), /3 channels/);
  });

  test('wrong length is refused', () => {
    assert.throws(() => pixelsToFloat(new Uint8Array(3), spec({})), /expected 2 pixel values/);
  });
});

describe('convertChannels', () => {
  test('grey → RGB replicates; RGB → grey uses PIL luma', () => {
    assert.deepEqual([...convertChannels(new Uint8Array([5, 9]), 1, 3)], [5, 5, 5, 9, 9, 9]);
    assert.deepEqual([...convertChannels(new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100]), 3, 1)], [76, 150, 29, 100]);
  });
});

describe('resizeToSpec', () => {
  // 40×20: black left columns (x < 6), white elsewhere.
  let img: Buffer;
  before(async () => {
    const px = Buffer.alloc(40 * 20, 255);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 6; x++) px[y * 40 + x] = 0;
    img = await sharp(px, { raw: { width: 40, height: 20, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  });
  const column = (p: Uint8Array, x: number, w: number, h: number) => Array.from({ length: h }, (_, y) => p[y * w + x]);
  const row = (p: Uint8Array, y: number, w: number) => [...p.subarray(y * w, (y + 1) * w)];

  test('stretch squeezes the whole image', async () => {
    const r = await resizeToSpec(img, spec({ width: 16, height: 16, resize: 'stretch' }));
    assert.deepEqual([r.originalWidth, r.originalHeight], [40, 20]);
    assert.equal(r.pixels.length, 256);
    assert.ok(column(r.pixels, 0, 16, 16).every((v) => v < 10), 'left column black');
    assert.ok(column(r.pixels, 10, 16, 16).every((v) => v > 245), 'right columns white');
  });

  test('letterbox pads top and bottom with black', async () => {
    const r = await resizeToSpec(img, spec({ width: 16, height: 16, resize: 'letterbox' }));
    assert.ok(row(r.pixels, 0, 16).every((v) => v === 0), 'top row is padding');
    assert.ok(row(r.pixels, 15, 16).every((v) => v === 0), 'bottom row is padding');
    assert.ok(r.pixels[8 * 16 + 12] > 245, 'middle right is image');
  });

  test('crop keeps the centre (the black left columns are cut off)', async () => {
    const r = await resizeToSpec(img, spec({ width: 16, height: 16, resize: 'crop' }));
    assert.ok([...r.pixels].every((v) => v > 245), 'all white');
  });

  test('colour source → 1 channel via luma; grey source → 3 channels', async () => {
    const red = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const grey = await resizeToSpec(red, spec({ width: 8, height: 8, channels: 1 }));
    assert.ok([...grey.pixels].every((v) => v === 76), `got ${grey.pixels[0]}`);
    const rgb = await resizeToSpec(img, spec({ width: 8, height: 8, channels: 3 }));
    assert.equal(rgb.pixels.length, 8 * 8 * 3);
    for (let i = 0; i < rgb.pixels.length; i += 3) assert.ok(rgb.pixels[i] === rgb.pixels[i + 1] && rgb.pixels[i] === rgb.pixels[i + 2]);
  });
});

describe('loadForModel', () => {
  test('hashes the file bytes, reports the oriented size, and scales', async () => {
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ffffff' } }).jpeg().withMetadata({ orientation: 6 }).toFile(at('r6.jpg'));
    const out = await loadForModel(at('r6.jpg'), spec({ width: 10, height: 12, channels: 1, scaling: 'scale255' }));
    assert.equal(out.sha256, createHash('sha256').update(await readFile(at('r6.jpg'))).digest('hex'));
    assert.deepEqual([out.originalWidth, out.originalHeight], [20, 40]);
    assert.equal(out.data.length, 120);
    assert.ok(out.data.every((v) => v > 0.97 && v <= 1));
  });

  test('bad files reject with ImageError', async () => {
    const jpg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    await writeFile(at('cut.jpg'), jpg.subarray(0, jpg.length >> 1));
    await assert.rejects(loadForModel(at('cut.jpg'), spec({ width: 8, height: 8 })), (e: unknown) => e instanceof ImageError && e.code === 'TRUNCATED');
    await assert.rejects(loadForModel(at('missing.png'), spec({ width: 8, height: 8 })), (e: unknown) => e instanceof ImageError && e.code === 'NOT_FOUND');
  });

  test('a colour picture is refused (NOT_GREY, naming the file); a grey image stored as RGB is not', async () => {
    const w = 64;
    const px = new Uint8Array(w * w * 3);
    for (let i = 0; i < w * w; i++) px.set(i % w < w / 2 ? [200, 40, 40] : [90, 90, 90], i * 3); // left half red
    await sharp(px, { raw: { width: w, height: w, channels: 3 } }).png().toFile(at('logo.png'));
    await assert.rejects(loadForModel(at('logo.png'), spec({ width: 16, height: 16, channels: 3 })), (e: unknown) =>
      e instanceof ImageError && e.code === 'NOT_GREY' && /^logo\.png: a colour picture, not a grey radiograph \(50 % of its pixels are coloured\); .*greyscale/.test(e.message));
    await assert.rejects(loadForModel(at('logo.png'), spec({ width: 16, height: 16, channels: 1 })), (e: unknown) => e instanceof ImageError && e.code === 'NOT_GREY');
    const greyRgb = px.map((_, i) => 60 + ((i / 3) % w));
    await sharp(greyRgb, { raw: { width: w, height: w, channels: 3 } }).jpeg({ quality: 75 }).toFile(at('grey-as-rgb.jpg'));
    assert.equal((await resizeToSpec(await readFile(at('grey-as-rgb.jpg')), spec({ width: 16, height: 16, channels: 3 }))).colouredShare, 0);
    assert.equal((await loadForModel(at('grey-as-rgb.jpg'), spec({ width: 16, height: 16, channels: 3 }))).data.length, 16 * 16 * 3);
  });

  test('every real X-ray has no coloured pixel, the 85 RGB-stored ones of train/ included', { skip: NO_DATA }, async () => {
    const dir = path.join(DATA, 'train', 'PNEUMONIA');
    const s = spec({ width: 224, height: 224, channels: 3, resize: 'crop' });
    let rgb = 0;
    for (const f of (await readdir(dir)).sort()) {
      const buf = await readFile(path.join(dir, f));
      if ((await sharp(buf).metadata()).channels !== 3) continue;
      rgb++;
      assert.equal((await resizeToSpec(buf, s, { file: f })).colouredShare, 0, f);
    }
    assert.ok(rgb >= 80, `${rgb} RGB files`);
  });

  test('real test-dev images: right length and range (2 in flight)', { skip: NO_DATA }, async (t) => {
    const files: string[] = [];
    for (const c of ['NORMAL', 'PNEUMONIA']) {
      const dir = path.join(DATA, 'test-dev', c);
      files.push(...(await readdir(dir)).sort().map((f) => path.join(dir, f)));
    }
    const s = spec({ width: 150, height: 150, channels: 1, scaling: 'scale255' });
    const t0 = performance.now();
    let next = 0;
    let min = Infinity;
    let max = -Infinity;
    const worker = async () => {
      while (next < files.length) {
        const out = await loadForModel(files[next++], s);
        assert.equal(out.data.length, 150 * 150);
        for (const v of out.data) {
          if (v < min) min = v;
          if (v > max) max = v;
        }
        assert.ok(out.originalWidth >= 700, `${out.originalWidth}`);
        assert.match(out.sha256, /^[0-9a-f]{64}$/);
      }
    };
    await Promise.all([worker(), worker()]);
    const ms = performance.now() - t0;
    t.diagnostic(`${files.length} full-res test-dev files, 2 in flight: ${ms.toFixed(0)} ms (${(ms / files.length).toFixed(1)} ms/file)`);
    assert.ok(min >= 0 && max <= 1 && max > 0.5, `range ${min}..${max}`);
    const rgb = await loadForModel(files[0], { ...s, channels: 3, scaling: 'imagenet' });
    assert.equal(rgb.data.length, 150 * 150 * 3);
  });

  test('matches the PIL bilinear reference (parity-input.npy)', { skip: NO_PARITY }, async (t) => {
    const npy = await readFile(path.join(PARITY, 'parity-input.npy'));
    const headerLen = npy.readUInt16LE(8);
    assert.match(npy.subarray(10, 10 + headerLen).toString('latin1'), /'<f4'.*\(8, 128, 128, 3\)/);
    const body = npy.subarray(10 + headerLen);
    const ref = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    const names = (await readFile(path.join(PARITY, 'parity-images.txt'), 'utf8')).trim().split('\n');
    const n = 128 * 128 * 3;
    let sum = 0;
    for (let i = 0; i < names.length; i++) {
      const out = await loadForModel(path.join(DATA, names[i]), { height: 128, width: 128, channels: 3, resize: 'stretch', scaling: 'scale255' });
      for (let j = 0; j < n; j++) sum += Math.abs(out.data[j] - ref[i * n + j]);
    }
    const meanLevels = (sum / (n * names.length)) * 255;
    t.diagnostic(`mean |sharp − PIL| = ${meanLevels.toFixed(3)} grey levels`);
    assert.ok(meanLevels < 0.6, `mean difference ${meanLevels} levels`);
  });
});

describe('sourceForm (bring a large image to the training images\' form first)', () => {
  // A 1200×900 grey image with fine structure (noise + stripes), as a lossless PNG.
  async function bigGrey(w: number, h: number): Promise<Buffer> {
    const px = Buffer.alloc(w * h);
    let s = 11;
    for (let i = 0; i < px.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      px[i] = (((i % w) >> 2) % 2 ? 160 : 80) + ((s >>> 24) % 40);
    }
    return sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
  }
  const model: InputSpec = { height: 64, width: 64, channels: 1, resize: 'crop', scaling: 'raw' };
  const form = { maxSide: 512, jpegQuality: 90 };

  test('a large image is shrunk to the long side, JPEG round-tripped, then resized; its original size is reported', async () => {
    const png = await bigGrey(1200, 900);
    const direct = await resizeToSpec(png, model);
    const formed = await resizeToSpec(png, { ...model, sourceForm: form });
    // By hand: what the training data's builder did, then the model's usual resize.
    const jpeg = await sharp(png).toColourspace('b-w').resize(512, 512, { fit: 'inside', kernel: 'lanczos3', fastShrinkOnLoad: false }).jpeg({ quality: 90 }).toBuffer();
    assert.deepEqual(await sharp(jpeg).metadata().then((m) => [m.width, m.height, m.format, m.channels]), [512, 384, 'jpeg', 1]);
    const byHand = await resizeToSpec(jpeg, model);
    assert.deepEqual([...formed.pixels], [...byHand.pixels]);
    assert.notDeepEqual([...formed.pixels], [...direct.pixels], 'the pre-step changes what the model sees');
    assert.deepEqual([formed.originalWidth, formed.originalHeight], [1200, 900]);
  });

  test('an image already within the long side goes straight to the model\'s size', async () => {
    const png = await bigGrey(512, 300);
    assert.deepEqual([...(await resizeToSpec(png, { ...model, sourceForm: form })).pixels], [...(await resizeToSpec(png, model)).pixels]);
  });

  test('a corrupt large image still names the file', async () => {
    const png = await bigGrey(1200, 900);
    await writeFile(at('cut.png'), png.subarray(0, Math.floor(png.length / 2)));
    await assert.rejects(loadForModel(at('cut.png'), { ...model, sourceForm: form }), (e: unknown) => e instanceof ImageError && /cut\.png/.test(e.message));
  });
});

test('zoom frames tighter: the input is brought to zoom times its size and the centre kept', async () => {
  // 40×40 black with a white 20×20 square in the middle.
  const px = Buffer.alloc(40 * 40);
  for (let y = 10; y < 30; y++) for (let x = 10; x < 30; x++) px[y * 40 + x] = 255;
  const png = await sharp(px, { raw: { width: 40, height: 40, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  const s = spec({ height: 20, width: 20 });
  const mean = (p: Uint8Array) => p.reduce((t, v) => t + v, 0) / p.length;
  const usual = await resizeToSpec(png, s);
  assert.ok(Math.abs(mean(usual.pixels) - 255 / 4) < 4, `usual framing: the square fills a quarter (${mean(usual.pixels)})`);
  const tight = await resizeToSpec(png, s, { zoom: 2 });
  assert.equal(tight.pixels.length, 400);
  assert.ok(mean(tight.pixels) > 250, `zoom 2: only the square is left (${mean(tight.pixels)})`);
  assert.deepEqual(await resizeToSpec(png, s, { zoom: 1 }), usual);
  const odd = await resizeToSpec(png, spec({ height: 20, width: 20, resize: 'crop' }), { zoom: 1.1 });
  assert.equal(odd.pixels.length, 400, 'zoomed size 22×22, centre 20×20');
  await assert.rejects(resizeToSpec(png, s, { zoom: 0.9 }), /zoom 0\.9: give a number from 1 to 2/);
});

describe('tone (equalize, median) after resizing', () => {
  test('a dim and a bright exposure of the same picture reach the model alike; without it they differ', async () => {
    const w = 48, h = 40;
    const base = Buffer.alloc(w * h);
    for (let i = 0; i < base.length; i++) base[i] = 20 + (((i % w) * 3 + Math.floor(i / w) * 5) % 90);
    const dim = await sharp(base, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
    const bright = await sharp(Buffer.from(base.map((v) => v * 2 + 30)), { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
    const eq: InputSpec = { height: 32, width: 32, channels: 3, resize: 'crop', scaling: 'scale255', tone: 'equalize' };
    const a = await resizeToSpec(dim, eq);
    const b = await resizeToSpec(bright, eq);
    const meanDiff = a.pixels.reduce((s, v, i) => s + Math.abs(v - b.pixels[i]), 0) / a.pixels.length;
    assert.ok(meanDiff < 1.5, `equalized exposures differ by ${meanDiff} levels on average (resampling rounding only)`);
    assert.equal(Math.min(...a.pixels), 0);
    assert.equal(Math.max(...a.pixels), 255);
    const plain = await resizeToSpec(bright, { ...eq, tone: undefined });
    assert.ok(plain.pixels.reduce((s, v) => s + v, 0) / plain.pixels.length > 150, 'unequalized, the bright one stays bright');
    assert.equal(a.pixels[0], a.pixels[1]);
    assert.equal(a.pixels[1], a.pixels[2], 'grey replicated to RGB stays grey');
  });

  test('toneByChannel: each channel is the grey image under its own tone (a mixed-tone ensemble\'s input)', async () => {
    const w = 40, h = 40;
    const rgb = Buffer.alloc(w * h * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = 40 + ((i * 7) % 120);
    const png = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    const spec: InputSpec = { height: 32, width: 32, channels: 3, resize: 'crop', scaling: 'scale255', toneByChannel: ['none', 'equalize', 'none'] };
    const stacked = (await resizeToSpec(png, spec)).pixels;
    const grey = (await resizeToSpec(png, { ...spec, channels: 1, toneByChannel: undefined })).pixels;
    const eq = (await resizeToSpec(png, { ...spec, channels: 1, toneByChannel: undefined, tone: 'equalize' })).pixels;
    assert.equal(stacked.length, grey.length * 3);
    for (let i = 0; i < grey.length; i++) {
      assert.equal(stacked[3 * i], grey[i]);
      assert.equal(stacked[3 * i + 1], eq[i]);
      assert.equal(stacked[3 * i + 2], grey[i]);
    }
    await assert.rejects(resizeToSpec(png, { ...spec, toneByChannel: ['none', 'equalize'] }), /toneByChannel gives 2 tone\(s\) for 3 channel\(s\); give one per channel and no tone/);
  });
});
