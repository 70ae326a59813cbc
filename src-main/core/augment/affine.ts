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
  /** Horizontal flip: off for chest X-rays (the heart sits on the patient's left; flipping teaches anatomy that does not exist). */
  horizontalFlip: boolean;
}

export const DEFAULT_AUGMENT: AugmentRanges = { rotation: 10, shift: 0.08, zoom: 0.1, brightness: 0.08, contrast: 0.1, horizontalFlip: false };

/** The concrete transform drawn for one image. */
export interface AffineDraw {
  angle: number;
  tx: number;
  ty: number;
  scale: number;
  brightness: number;
  contrast: number;
  flip: boolean;
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
  };
}

/**
 * Applies a transform to an HWC float image (bilinear sampling, edges repeated as Keras'
 * fill_mode="nearest"), writing into `out` (same size). Rotation and zoom are about the centre.
 */
export function applyAffine(src: Float32Array, h: number, w: number, c: number, d: AffineDraw, out: Float32Array): Float32Array {
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
      const ox = (d.flip ? w - 1 - x : x) - cx - sx;
      const oy = y - cy - sy;
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
  return out;
}
