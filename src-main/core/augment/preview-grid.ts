/** A grid of augmented copies of one image, to check augmentation ranges by eye (`cxr augment-preview`). */
import sharp from 'sharp';
import { createRng } from '../dataset/rng.ts';
import { loadForModel } from '../imaging/preprocess.ts';
import { applyAffine, drawAffine, type AugmentRanges } from './affine.ts';

/**
 * Writes a PNG grid: the original first, then `count − 1` augmented samples drawn with `seed`,
 * each `size`×`size` grey (scale255 pixels clamped to 0–255).
 */
export async function writeAugmentPreview(image: string, out: string, ranges: AugmentRanges, o: { count: number; size: number; seed: number }): Promise<{ cols: number; rows: number }> {
  const { size, count } = o;
  const { data } = await loadForModel(image, { height: size, width: size, channels: 1, resize: 'stretch', scaling: 'scale255' });
  const cols = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / cols);
  const gap = 4;
  const W = cols * size + (cols - 1) * gap;
  const H = rows * size + (rows - 1) * gap;
  const grid = new Uint8Array(W * H).fill(255);
  const rnd = createRng(o.seed);
  const tile = new Float32Array(size * size);
  for (let k = 0; k < count; k++) {
    const img = k === 0 ? data : applyAffine(data, size, size, 1, drawAffine(ranges, rnd), tile);
    const ox = (k % cols) * (size + gap);
    const oy = Math.floor(k / cols) * (size + gap);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) grid[(oy + y) * W + ox + x] = Math.max(0, Math.min(255, Math.round(img[y * size + x] * 255)));
  }
  try {
    await sharp(grid, { raw: { width: W, height: H, channels: 1 } }).png().toFile(out);
  } catch (e) {
    throw new Error(`${out}: cannot write the preview (${(e as Error).message}); check the folder exists and is writable`);
  }
  return { cols, rows };
}
