/**
 * Bringing a Grad-CAM grid (model-input space, layer resolution) onto the original image, and
 * blending it over the image. Plain arrays only.
 *
 * The grid is stretched over the model's input (the usual Grad-CAM convention), then mapped back
 * through the resize the model's input spec used: `stretch` maps input and image edges together;
 * `letterbox` drops the padding bands; `crop` leaves the cut-off borders at 0 (the model never saw
 * them). Sampling is bilinear, at pixel centres.
 */
import type { ColormapName, GradCamResult } from '../../../src-shared/explain-types.ts';
import { colormapLut } from './colormap.ts';

/** The parts of a GradCamResult needed to place its grid on the image. */
export type CamGrid = Pick<GradCamResult, 'cam' | 'width' | 'height' | 'image' | 'input'>;

/**
 * Samples the cam (values in [0, 1]) on an `outW` × `outH` grid covering the whole original image
 * (default: the original size; pass a smaller grid of the same aspect for statistics).
 */
export function camOnImage(r: CamGrid, outW = r.image.width, outH = r.image.height): Float32Array {
  const W0 = r.image.width;
  const H0 = r.image.height;
  const Wi = r.input.width;
  const Hi = r.input.height;
  // Original pixel (u in [0, W0]) → input pixel: px = ox + u * sx.
  let sx = Wi / W0;
  let sy = Hi / H0;
  if (r.input.resize === 'letterbox') sx = sy = Math.min(Wi / W0, Hi / H0);
  if (r.input.resize === 'crop') sx = sy = Math.max(Wi / W0, Hi / H0);
  const ox = (Wi - W0 * sx) / 2;
  const oy = (Hi - H0 * sy) / 2;
  const out = new Float32Array(outW * outH);
  const xs = new Float64Array(outW);
  for (let x = 0; x < outW; x++) xs[x] = ((ox + ((x + 0.5) / outW) * W0 * sx) / Wi) * r.width - 0.5;
  for (let y = 0; y < outH; y++) {
    const v = oy + ((y + 0.5) / outH) * H0 * sy;
    if (v < 0 || v > Hi) continue;
    const fy = Math.min(Math.max((v / Hi) * r.height - 0.5, 0), r.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, r.height - 1);
    const ty = fy - y0;
    for (let x = 0; x < outW; x++) {
      const raw = xs[x];
      const u = (raw + 0.5) / r.width; // back to input fraction for the bounds check
      if (u < 0 || u > 1) continue;
      const fx = Math.min(Math.max(raw, 0), r.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, r.width - 1);
      const tx = fx - x0;
      const a = r.cam[y0 * r.width + x0] * (1 - tx) + r.cam[y0 * r.width + x1] * tx;
      const b = r.cam[y1 * r.width + x0] * (1 - tx) + r.cam[y1 * r.width + x1] * tx;
      out[y * outW + x] = a * (1 - ty) + b * ty;
    }
  }
  return out;
}

/** Options for `overlayPixels`. */
export interface OverlayOptions {
  /** Weight of the heatmap colour, 0–1 (default 0.4). */
  opacity?: number;
  colormap?: ColormapName;
}

/**
 * Blends the coloured heatmap over the original image: out = (1 − opacity) · image + opacity ·
 * colour(cam). `pixels` are 8-bit, 1 (grey) or 3 (RGB) channels interleaved at the original size;
 * returns RGB bytes of the same size.
 */
export function overlayPixels(r: CamGrid, pixels: Uint8Array, channels: 1 | 3, opts: OverlayOptions = {}): Uint8Array {
  const a = opts.opacity ?? 0.4;
  if (!(a >= 0 && a <= 1)) throw new Error(`opacity must be in 0–1 (got ${a})`);
  const { width, height } = r.image;
  if (pixels.length !== width * height * channels) {
    throw new Error(`overlay: the image has ${pixels.length} values, expected ${width}×${height}×${channels}`);
  }
  const heat = camOnImage(r);
  const lut = colormapLut(opts.colormap ?? 'viridis');
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const j = 3 * Math.round(255 * heat[i]);
    for (let k = 0; k < 3; k++) {
      const p = pixels[channels === 1 ? i : 3 * i + k];
      out[3 * i + k] = Math.round((1 - a) * p + a * lut[j + k]);
    }
  }
  return out;
}
