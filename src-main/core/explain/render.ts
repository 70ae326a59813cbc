/**
 * PNG figures of the explain views, drawn with sharp: a tiled channel grid per layer with a
 * labelled header band (an SVG text overlay composited by sharp), the Grad-CAM overlay at the
 * original image size, and the raw heatmap as a grey PNG.
 */
import sharp from 'sharp';
import type { ActivationMap, ColormapName, GradCamResult } from '../../../src-shared/explain-types.ts';
import { decodeImage } from '../imaging/decode.ts';
import { colormapLut } from './colormap.ts';
import { camOnImage, overlayPixels, type OverlayOptions } from './heatmap.ts';

const GAP = 2;
const HEADER = 30;
const MIN_WIDTH = 420;

/** Options for the channel grid. */
export interface GridOptions {
  colormap?: ColormapName;
  /** Small maps are enlarged (nearest neighbour) to at least this many pixels a side (default 48). */
  minTile?: number;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** A PNG with every channel of `map` tiled in a grid (colour-mapped) under a header naming the layer. */
export async function activationGridPng(map: ActivationMap, opts: GridOptions = {}): Promise<Buffer> {
  const [h, w, c] = map.shape;
  const scale = Math.max(1, Math.ceil((opts.minTile ?? 48) / Math.max(h, w)));
  const th = h * scale;
  const tw = w * scale;
  const cols = Math.ceil(Math.sqrt(c));
  const rows = Math.ceil(c / cols);
  const gridW = cols * (tw + GAP) + GAP;
  const width = Math.max(gridW, MIN_WIDTH);
  const height = HEADER + rows * (th + GAP) + GAP;
  const lut = colormapLut(opts.colormap ?? 'viridis');
  const px = new Uint8Array(width * height * 3).fill(32);
  const hw = h * w;
  for (let k = 0; k < c; k++) {
    const left = GAP + (k % cols) * (tw + GAP);
    const top = HEADER + GAP + Math.floor(k / cols) * (th + GAP);
    for (let y = 0; y < th; y++) {
      const src = k * hw + Math.floor(y / scale) * w;
      let o = 3 * ((top + y) * width + left);
      for (let x = 0; x < tw; x++, o += 3) {
        const j = 3 * map.maps[src + Math.floor(x / scale)];
        px[o] = lut[j];
        px[o + 1] = lut[j + 1];
        px[o + 2] = lut[j + 2];
      }
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < c; k++) {
    lo = Math.min(lo, map.min[k]);
    hi = Math.max(hi, map.max[k]);
  }
  const title = `${map.layer} (${map.className})  ${h}×${w}×${c}`;
  const sub = `each channel scaled to its own min–max; values ${fmt(lo)} … ${fmt(hi)}`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEADER}">
<rect width="100%" height="100%" fill="#111"/>
<text x="6" y="13" font-family="DejaVu Sans, Arial, sans-serif" font-size="12" font-weight="bold" fill="#fff">${escapeXml(title)}</text>
<text x="6" y="26" font-family="DejaVu Sans, Arial, sans-serif" font-size="10" fill="#bbb">${escapeXml(sub)}</text>
</svg>`;
  return sharp(px, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(2) : v.toFixed(2);
}

/** The Grad-CAM overlay at the original image's size, as a PNG (the image file is decoded again). */
export async function overlayPng(result: GradCamResult, file: string, opts: OverlayOptions = {}): Promise<Buffer> {
  const img = await decodeImage(file);
  if (img.width !== result.image.width || img.height !== result.image.height) {
    throw new Error(`${file}: the image is ${img.width}×${img.height} but the heatmap was made for ${result.image.width}×${result.image.height}`);
  }
  const rgb = overlayPixels(result, img.data, img.channels, opts);
  return sharp(rgb, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
}

/** The heatmap (0–1 → 0–255) at the original image size as a grey PNG. */
export async function heatmapPng(result: GradCamResult): Promise<Buffer> {
  const heat = camOnImage(result);
  const grey = new Uint8Array(heat.length);
  for (let i = 0; i < heat.length; i++) grey[i] = Math.round(255 * heat[i]);
  return sharp(grey, { raw: { width: result.image.width, height: result.image.height, channels: 1 } }).png().toBuffer();
}
