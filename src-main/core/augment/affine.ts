import { createRng } from '../dataset/rng.ts';

/** Ranges of the random augmentations applied on the fly during training (Keras ImageDataGenerator style). */
export interface AugmentRanges {
  /** Max rotation in degrees (±). */
  rotation: number;
  /** Max shift as a fraction of width/height (±). */
  shift: number;
  /** Max zoom as a fraction (scale in [1 − zoom, 1 + zoom]). */
  zoom: number;
  /** Max additive brightness change in scaled units (±). */
  brightness: number;
  /** Max contrast change as a fraction (factor in [1 − c, 1 + c]). */
  contrast: number;
  /** Max shear angle in degrees (±), as Keras' shear_range; 0 = off. */
  shear?: number;
  /** Standard deviation of additive Gaussian pixel noise in scaled units; 0 = off. */
  noise?: number;
  /** Horizontal flip: off for chest X-rays (the heart sits on the patient's left; flipping teaches anatomy that does not exist). */
  horizontalFlip: boolean;
}

export const DEFAULT_AUGMENT: AugmentRanges = { rotation: 10, shift: 0.08, zoom: 0.1, brightness: 0.08, contrast: 0.1, horizontalFlip: false };

/** Checks augmentation ranges, throwing a message that names the offending flag. */
export function validateAugment(r: AugmentRanges): AugmentRanges {
  const bad = (flag: string, v: number, max: number) => !(Number.isFinite(v) && v >= 0 && v <= max) && `--${flag} must be from 0 to ${max} (got ${v})`;
  const msg = bad('rotation', r.rotation, 180) || bad('shift', r.shift, 0.5) || bad('zoom', r.zoom, 0.9) || bad('shear', r.shear ?? 0, 45)
    || bad('brightness', r.brightness, 1) || bad('contrast', r.contrast, 0.9) || bad('noise', r.noise ?? 0, 1);
  if (msg) throw new Error(`augmentation: ${msg}`);
  return r;
}

/** The concrete transform drawn for one image. */
export interface AffineDraw {
  angle: number;
  tx: number;
  ty: number;
  scale: number;
  brightness: number;
  contrast: number;
  flip: boolean;
  /** Shear angle in radians (x' = x + tan(shear)·y about the centre). */
  shear?: number;
  /** Gaussian noise: standard deviation and the seed of its own generator (0 or absent = none). */
  noise?: number;
  noiseSeed?: number;
}

/** Draws one random transform from `ranges` with the given uniform [0,1) generator. */
export function drawAffine(ranges: AugmentRanges, rnd: () => number): AffineDraw {
  const u = (m: number) => (rnd() * 2 - 1) * m;
  return {
    angle: (u(ranges.rotation) * Math.PI) / 180,
    tx: u(ranges.shift),
    ty: u(ranges.shift),
    scale: 1 + u(ranges.zoom),
    brightness: u(ranges.brightness),
    contrast: 1 + u(ranges.contrast),
    flip: ranges.horizontalFlip && rnd() < 0.5,
    // Drawn only when enabled, so the default ranges give the same random stream as before.
    shear: ranges.shear ? (u(ranges.shear) * Math.PI) / 180 : 0,
    noise: ranges.noise ?? 0,
    noiseSeed: ranges.noise ? Math.floor(rnd() * 2 ** 31) : 0,
  };
}

/** Standard normal samples from a uniform generator (Box–Muller). */
function gaussian(rnd: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) { const s = spare; spare = null; return s; }
    const u = 1 - rnd();
    const v = rnd();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Applies a transform to an HWC float image (bilinear sampling, edges repeated as Keras'
 * fill_mode="nearest"), writing into `out` (same size). Rotation, zoom and shear are about the centre;
 * Gaussian noise (its own seeded generator) is added last.
 */
export function applyAffine(src: Float32Array, h: number, w: number, c: number, d: AffineDraw, out: Float32Array): Float32Array {
  const shearTan = Math.tan(d.shear ?? 0);
  const cos = Math.cos(d.angle) / d.scale;
  const sin = Math.sin(d.angle) / d.scale;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const sx = d.tx * w;
  const sy = d.ty * h;
  let mean = 0;
  for (let i = 0; i < src.length; i++) mean += src[i];
  mean /= src.length;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const oy = y - cy - sy;
      const ox = (d.flip ? w - 1 - x : x) - cx - sx - shearTan * oy;
      // Inverse mapping of a counter-clockwise (on screen, y down) rotation, as Keras' positive angles.
      let fx = cos * ox - sin * oy + cx;
      let fy = sin * ox + cos * oy + cy;
      fx = fx < 0 ? 0 : fx > w - 1 ? w - 1 : fx;
      fy = fy < 0 ? 0 : fy > h - 1 ? h - 1 : fy;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = x0 + 1 < w ? x0 + 1 : x0;
      const y1 = y0 + 1 < h ? y0 + 1 : y0;
      const ax = fx - x0;
      const ay = fy - y0;
      for (let k = 0; k < c; k++) {
        const v00 = src[(y0 * w + x0) * c + k];
        const v01 = src[(y0 * w + x1) * c + k];
        const v10 = src[(y1 * w + x0) * c + k];
        const v11 = src[(y1 * w + x1) * c + k];
        const v = (v00 * (1 - ax) + v01 * ax) * (1 - ay) + (v10 * (1 - ax) + v11 * ax) * ay;
        out[(y * w + x) * c + k] = (v - mean) * d.contrast + mean + d.brightness;
      }
    }
  }
  if (d.noise && d.noise > 0) {
    const g = gaussian(createRng(d.noiseSeed ?? 0));
    for (let i = 0; i < out.length; i++) out[i] += d.noise * g();
  }
  return out;
}
