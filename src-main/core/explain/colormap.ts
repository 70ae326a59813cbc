/**
 * Perceptually uniform colour maps (matplotlib's viridis and inferno) as 256-entry RGB lookup
 * tables. Both have monotonically increasing lightness, so the brightest colour always means the
 * largest value, also in greyscale print and for colour-blind readers (no rainbow/jet).
 * The tables are evaluated from degree-6 polynomial fits of matplotlib's data (Matt Zucker,
 * https://www.shadertoy.com/view/WlfXRN, CC0), within about 1 % of the original tables.
 */
import type { ColormapName } from '../../../src-shared/explain-types.ts';

type Vec3 = [number, number, number];

const COEFFICIENTS: Record<ColormapName, Vec3[]> = {
  viridis: [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ],
  inferno: [
    [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
    [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
    [11.60249308247187, -3.972853965665698, -15.9423941062914],
    [-41.70399613139459, 17.43639888205313, 44.35414519872813],
    [77.162935699427, -33.40235894210092, -81.80730925738993],
    [-71.31942824499214, 32.62606426397723, 73.20951985803202],
    [25.13112622477341, -12.24266895238567, -23.07032500287172],
  ],
};

const tables = new Map<ColormapName, Uint8Array>();

/** The colour map as 256 × 3 bytes (RGB of value i/255 at [3i, 3i+1, 3i+2]). */
export function colormapLut(name: ColormapName = 'viridis'): Uint8Array {
  let lut = tables.get(name);
  if (lut) return lut;
  const c = COEFFICIENTS[name];
  if (!c) throw new Error(`unknown colour map "${name}"; use viridis or inferno`);
  lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let k = 0; k < 3; k++) {
      let v = 0;
      for (let d = c.length - 1; d >= 0; d--) v = v * t + c[d][k];
      lut[3 * i + k] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
  }
  tables.set(name, lut);
  return lut;
}

/** Colours values in [0, 1] (clamped) as interleaved RGB bytes. */
export function applyColormap(values: ArrayLike<number>, name: ColormapName = 'viridis'): Uint8Array {
  const lut = colormapLut(name);
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const j = 3 * Math.round(255 * Math.min(1, Math.max(0, values[i] || 0)));
    out[3 * i] = lut[j];
    out[3 * i + 1] = lut[j + 1];
    out[3 * i + 2] = lut[j + 2];
  }
  return out;
}
