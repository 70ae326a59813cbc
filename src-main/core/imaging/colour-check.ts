/**
 * Is this a grey picture, as every radiograph is? A chest X-ray stored as RGB (85 of the Kermany train
 * files are) has R = G = B up to JPEG noise; a photo, a logo, a screenshot or a pseudo-colour rendering
 * does not, and the model would still give it a confident P(pneumonia) (the Debian logo scored 0.999).
 *
 * Measured on the model-sized pixels (after resizing): the share of pixels whose channels differ by more
 * than COLOUR_SPREAD levels. All 1,665 images of ../shared/data (train, val, test-dev, grey and RGB) have
 * a share of 0. Of 55 other PNG/JPEG pictures on this machine (the Rust documentation's diagrams and
 * screenshots, the Debian logo) 17 are refused (shares 0.020–0.75); the other 38, mostly white diagrams
 * with a few coloured lines, pass (≤ 0.015). So this catches colour pictures, not every non-X-ray.
 */

/** Channel spread (0–255 levels) above which a pixel counts as coloured. */
export const COLOUR_SPREAD = 32;
/** Share of coloured pixels above which an image is refused as not a grey radiograph. */
export const MAX_COLOURED_SHARE = 0.02;

/** The share of pixels of an interleaved 8-bit image whose channels differ by more than COLOUR_SPREAD (0 for grey). */
export function colouredShare(pixels: Uint8Array, channels: number): number {
  if (channels < 3) return 0;
  const n = Math.floor(pixels.length / channels);
  if (n === 0) return 0;
  let coloured = 0;
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    const r = pixels[o];
    const g = pixels[o + 1];
    const b = pixels[o + 2];
    if (Math.max(r, g, b) - Math.min(r, g, b) > COLOUR_SPREAD) coloured++;
  }
  return coloured / n;
}

/** Why an image with this share of coloured pixels is not a grey radiograph ("N % of its pixels are coloured"), or undefined when it is grey enough. */
export function notGreyDetail(share: number): string | undefined {
  return share > MAX_COLOURED_SHARE ? `${(share * 100).toFixed(0)} % of its pixels are coloured` : undefined;
}
