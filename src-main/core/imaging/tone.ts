/**
 * Tone normalisation of a model's 8-bit input after resizing (InputSpec.tone), so that how bright or how contrasty
 * a radiograph came out — which varies with the machine, technique and processing as much as with disease —
 * reaches the model less. Two strengths:
 * - `equalize`: global histogram equalization; every image gets the same spread of grey levels (exposure and
 *   global contrast both gone).
 * - `median`: a gamma curve that brings the image's median grey level to 128; the order of grey levels and most
 *   of the global contrast stay, only the overall exposure goes.
 */
import type { Tone } from '../../../src-shared/types.ts';

/** The pixels with `tone` applied (a new array; all channels pooled, so grey replicated to RGB stays grey). */
export function applyTone(pixels: Uint8Array, tone: Tone): Uint8Array {
  return tone === 'equalize' ? equalizeHistogram(pixels) : medianToMidGrey(pixels);
}

/**
 * Global histogram equalization: each grey level is replaced by its cumulative share in the image's own
 * histogram, spread over 0–255; local structure (edges, textures, opacities) stays. The classic form
 * (Gonzalez & Woods): v′ = round(255 · (cdf(v) − cdf_min) / (n − cdf_min)).
 * A flat image stays as it is.
 */
export function equalizeHistogram(pixels: Uint8Array): Uint8Array {
  const n = pixels.length;
  const hist = histogram(pixels);
  let cdfMin = 0;
  for (let v = 0; v < 256; v++) if (hist[v]) { cdfMin = hist[v]; break; }
  if (n === 0 || cdfMin === n) return pixels.slice();
  const map = new Uint8Array(256);
  let cdf = 0;
  for (let v = 0; v < 256; v++) {
    cdf += hist[v];
    map[v] = Math.round((255 * Math.max(0, cdf - cdfMin)) / (n - cdfMin));
  }
  return mapLevels(pixels, map);
}

/** Bounds on the gamma exponent, so a nearly black or white image is not stretched without limit. */
export const TONE_GAMMA_RANGE: readonly [number, number] = [0.25, 4];

/**
 * The gamma curve v′ = 255 · (v / 255)^γ with γ chosen so that the median grey level maps to 128 (γ kept within
 * TONE_GAMMA_RANGE). Black stays black and white stays white; an image whose median is 0 or 255 is left as it is.
 */
export function medianToMidGrey(pixels: Uint8Array): Uint8Array {
  const hist = histogram(pixels);
  let median = 0;
  for (let v = 0, c = 0; v < 256; v++) {
    c += hist[v];
    if (2 * c >= pixels.length) { median = v; break; }
  }
  if (median <= 0 || median >= 255) return pixels.slice();
  const gamma = Math.min(TONE_GAMMA_RANGE[1], Math.max(TONE_GAMMA_RANGE[0], Math.log(128 / 255) / Math.log(median / 255)));
  return mapLevels(pixels, Uint8Array.from({ length: 256 }, (_, v) => Math.round(255 * (v / 255) ** gamma)));
}

function histogram(pixels: Uint8Array): Uint32Array {
  const hist = new Uint32Array(256);
  for (let i = 0; i < pixels.length; i++) hist[pixels[i]]++;
  return hist;
}

/** A new array with each grey level replaced through the 256-entry table `map`. */
function mapLevels(pixels: Uint8Array, map: Uint8Array): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = map[pixels[i]];
  return out;
}
