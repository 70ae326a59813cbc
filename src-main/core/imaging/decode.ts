/**
 * Reading and decoding JPEG/PNG files with sharp, with every failure mapped to an ImageError.
 * Plain arrays only (no TensorFlow.js), so this runs in worker threads.
 *
 * sharp behaviour this relies on (sharp 0.35 / libvips 8.18, checked in decode.test.ts):
 * - `metadata()` only parses the header, so it succeeds on a truncated file; truncation is only
 *   seen when pixels are decoded. With `failOn: 'truncated'` or stricter, a JPEG cut anywhere
 *   (even just its final EOI marker) fails with "VipsJpeg: premature end of JPEG image", a cut PNG
 *   with "vipspng: libpng read error". With `failOn: 'none'` both decode silently (grey fill).
 * - `limitInputPixels` is checked on the header dimensions, before any pixel is decoded.
 * - A 16-bit grey image written with `.raw()` comes back as 3-channel sRGB unless we ask for
 *   'b-w'; `toColourspace('b-w' | 'srgb')` scales 16 → 8 bits (v / 257), it does not clip.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import { ImageError, imageErrorFromFsError } from './image-error.ts';

/** Images with more pixels than this are refused (TOO_LARGE). */
export const MAX_PIXELS = 50_000_000;
/** Images whose shorter side is below this are refused (TOO_SMALL). */
export const MIN_SIDE = 16;

/**
 * How strict libvips is about damaged pixel data. 'error' fails on truncation and on decoder
 * errors but tolerates benign libjpeg warnings (e.g. extraneous bytes before a marker), which
 * real PACS exports sometimes carry. All 1,665 Kermany files decode even at 'warning'.
 */
const FAIL_ON = 'error' as const;

/** An 8-bit, interleaved image with EXIF orientation applied. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
  sourceFormat: string;
  sourceBitDepth: 8 | 16;
  sourceChannels: number;
}

/** What the header says about an image that passed the format and size checks. */
export interface ImageHeader {
  format: 'jpeg' | 'png';
  /** Width and height after EXIF orientation. */
  width: number;
  height: number;
  /** Colour channels in the source, alpha included (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA/CMYK). */
  channels: number;
  bitDepth: 8 | 16;
  hasAlpha: boolean;
  /** True when the source is greyscale (so the decoded image keeps one channel). */
  grey: boolean;
}

/**
 * Reads a whole image file, mapping missing, folder, unreadable and empty files to ImageError.
 */
export async function readImageFile(file: string): Promise<Buffer> {
  let buffer: Buffer;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new ImageError(file, 'IS_DIRECTORY');
    buffer = await readFile(file);
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw imageErrorFromFsError(e, file) ?? e;
  }
  if (buffer.length === 0) throw new ImageError(file, 'EMPTY');
  return buffer;
}

/**
 * Parses an image header and checks format (JPEG/PNG) and size (≥ 16 px, ≤ 50 MP) without
 * decoding pixels. `file` is only used in error messages.
 */
export async function inspectImage(buffer: Uint8Array, file: string): Promise<ImageHeader> {
  if (buffer.length === 0) throw new ImageError(file, 'EMPTY');
  let meta: Metadata;
  try {
    // No pixel limit here so that oversized images get our TOO_LARGE message with their size.
    meta = await sharp(buffer, { failOn: FAIL_ON, limitInputPixels: false }).metadata();
  } catch (e) {
    throw imageErrorFromSharp(e, buffer, file);
  }
  if (meta.format !== 'jpeg' && meta.format !== 'png') {
    throw new ImageError(file, 'UNSUPPORTED_FORMAT', `${String(meta.format).toUpperCase()} image`);
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new ImageError(file, 'CORRUPT', 'no image size in the header');
  if (width * height > MAX_PIXELS) {
    const mp = ((width * height) / 1e6).toFixed(1);
    throw new ImageError(file, 'TOO_LARGE', `${width}×${height} px = ${mp} MP, limit ${MAX_PIXELS / 1e6} MP`);
  }
  if (Math.min(width, height) < MIN_SIDE) {
    throw new ImageError(file, 'TOO_SMALL', `${width}×${height} px, minimum ${MIN_SIDE}×${MIN_SIDE}`);
  }
  const channels = meta.channels ?? 3;
  const grey = meta.space === 'b-w' || meta.space === 'grey16' || channels <= 2;
  const bitDepth = meta.depth === 'ushort' || (meta.bitsPerSample ?? 8) > 8 ? 16 : 8;
  return { format: meta.format, width, height, channels, bitDepth, hasAlpha: !!meta.hasAlpha, grey };
}

/**
 * A sharp pipeline on `buffer` that applies EXIF orientation, flattens alpha onto black and
 * yields 8-bit pixels: 1 channel for grey sources, 3 (sRGB) otherwise. Callers may add a resize.
 * An embedded ICC profile is ignored: the stored values are the data, as PIL and Keras read them
 * (the Kermany val/NORMAL originals carry an Apple grey profile that libvips would otherwise
 * apply, brightening them by about 13 of 255 levels against the same images everywhere else).
 */
export function openPixels(buffer: Uint8Array, header: ImageHeader): Sharp {
  let s = sharp(buffer, { failOn: FAIL_ON, limitInputPixels: MAX_PIXELS, autoOrient: true, ignoreIcc: true });
  if (header.hasAlpha) s = s.flatten({ background: { r: 0, g: 0, b: 0 } });
  return s.toColourspace(header.grey ? 'b-w' : 'srgb');
}

/**
 * Runs a pipeline from `openPixels` to raw 8-bit pixels, mapping decoder errors to ImageError.
 */
export async function toRawPixels(
  pipeline: Sharp,
  buffer: Uint8Array,
  file: string,
): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  try {
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { data: pixels, width: info.width, height: info.height, channels: info.channels };
  } catch (e) {
    throw imageErrorFromSharp(e, buffer, file);
  }
}

/**
 * Decodes a JPEG or PNG file to 8-bit interleaved pixels (EXIF orientation applied, alpha
 * flattened onto black, 16-bit scaled to 8). Throws ImageError with a clear code otherwise.
 */
export async function decodeImage(file: string): Promise<DecodedImage> {
  const buffer = await readImageFile(file);
  return decodeImageBuffer(buffer, file);
}

/** Like decodeImage, for bytes already in memory; `file` is only used in error messages. */
export async function decodeImageBuffer(buffer: Uint8Array, file: string): Promise<DecodedImage> {
  const header = await inspectImage(buffer, file);
  const raw = await toRawPixels(openPixels(buffer, header), buffer, file);
  if (raw.channels !== 1 && raw.channels !== 3) {
    throw new ImageError(file, 'UNSUPPORTED_FORMAT', `${raw.channels} channels after decoding`);
  }
  return {
    width: raw.width,
    height: raw.height,
    channels: raw.channels,
    data: raw.data,
    sourceFormat: header.format,
    sourceBitDepth: header.bitDepth,
    sourceChannels: header.channels,
  };
}

/** Maps a sharp/libvips error to an ImageError, using the file's leading bytes as a hint. */
export function imageErrorFromSharp(e: unknown, buffer: Uint8Array, file: string): ImageError {
  if (e instanceof ImageError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const kind = sniffFormat(buffer);
  const label = kind === 'jpeg' ? 'JPEG data' : kind === 'png' ? 'PNG data' : 'image data';
  if (/buffer is empty/i.test(message)) return new ImageError(file, 'EMPTY', undefined, { cause: e });
  if (/exceeds pixel limit/i.test(message)) {
    return new ImageError(file, 'TOO_LARGE', `over ${MAX_PIXELS / 1e6} MP`, { cause: e });
  }
  if (/unsupported image format/i.test(message)) {
    // A DICOM file has 'DICM' at byte 128; one written without its preamble (older CR files) is known by its name.
    if (kind === 'dicom' || (kind === 'unknown' && /\.(dcm|dicom)$/i.test(file))) {
      return new ImageError(file, 'UNSUPPORTED_FORMAT', 'DICOM file, which this version does not read: export the study from the PACS or DICOM viewer', { cause: e });
    }
    return new ImageError(file, 'NOT_AN_IMAGE', undefined, { cause: e });
  }
  const truncatedHint = /premature end|truncat|end of (file|data|stream)|unexpected end|not enough/i.test(message);
  // The message alone is not enough: libpng reports a cut file and a bad CRC alike, and libvips keeps one error
  // buffer for all threads, so with several files decoding at once a cut JPEG's "premature end" can come back as
  // "Unknown error". A PNG without its IEND chunk, or a JPEG without its end-of-image marker, was cut.
  const cut = (kind === 'png' && !endsWithIend(buffer)) || (kind === 'jpeg' && !endsWithEoi(buffer));
  if (truncatedHint || cut) {
    return new ImageError(file, 'TRUNCATED', `${label} ends early`, { cause: e });
  }
  return new ImageError(file, 'CORRUPT', firstLine(message), { cause: e });
}

function firstLine(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? 'unknown decoder error';
}

// The JPEG end-of-image marker (FF D9) within the last bytes (encoders may pad after it).
function endsWithEoi(buffer: Uint8Array): boolean {
  for (let i = buffer.length - 2; i >= Math.max(0, buffer.length - 64); i--) if (buffer[i] === 0xff && buffer[i + 1] === 0xd9) return true;
  return false;
}

function endsWithIend(buffer: Uint8Array): boolean {
  const n = buffer.length;
  return n >= 12 && String.fromCharCode(buffer[n - 8], buffer[n - 7], buffer[n - 6], buffer[n - 5]) === 'IEND';
}

function sniffFormat(buffer: Uint8Array): 'jpeg' | 'png' | 'dicom' | 'unknown' {
  if (buffer.length >= 3 && buffer[0] === 0xff && buffer[1] === 0xd8 && buffer[2] === 0xff) return 'jpeg';
  if (buffer.length >= 8 && buffer[0] === 0x89 && buffer[1] === 0x50 && buffer[2] === 0x4e && buffer[3] === 0x47) return 'png';
  if (buffer.length >= 132 && String.fromCharCode(buffer[128], buffer[129], buffer[130], buffer[131]) === 'DICM') return 'dicom';
  return 'unknown';
}
