/**
 * From an image file to the Float32 HWC array a model wants (size, channels, scaling from its
 * InputSpec). Plain arrays only (no TensorFlow.js), so this runs in worker threads.
 *
 * Resampling: sharp's resize runs before pixels leave libvips, so each file is decoded at full
 * resolution once and only the small result is copied out. The default kernel is 'linear' with
 * `fastShrinkOnLoad: false`. libvips widens the kernel by the shrink factor when downsampling,
 * i.e. it antialiases like PIL's `resize(..., BILINEAR)` does. Against the PIL-bilinear reference
 * in ../shared/data/models/keras2-h5-cnn128-rgb/parity-input.npy (8 full-res test-dev images →
 * 128×128) the mean absolute difference was, in 8-bit levels: linear 0.39 (0.76 with JPEG
 * shrink-on-load), cubic 0.81, lanczos3 1.14, nearest 2.9. JPEG shrink-on-load (DCT scaling) is
 * faster but drifts from PIL, so it is off.
 */
import { createHash } from 'node:crypto';
import type { ChannelTone, InputSpec, SourceForm } from '../../../src-shared/types.ts';
import { applyTone } from './tone.ts';
import { colouredShare, notGreyDetail } from './colour-check.ts';
import { ImageError } from './image-error.ts';
import { imageErrorFromSharp, inspectImage, openPixels, readImageFile, toRawPixels, type ImageHeader } from './decode.ts';

/** Resampling kernels offered for resizing. */
export type ResizeKernel = 'linear' | 'cubic' | 'lanczos3' | 'nearest';

/** Options for loadForModel and resizeToSpec. */
export interface PreprocessOptions {
  /** Resampling kernel; default 'linear' (closest to PIL bilinear, see the file comment). */
  kernel?: ResizeKernel;
  /**
   * Framing check (cxr evaluate --framing): bring the image to `zoom` times the input size with the model's
   * resize mode, then keep the centre; 1.1 frames the chest 10 % tighter. Default 1 (the model's own framing).
   */
  zoom?: number;
}

/** A file ready for the model. */
export interface ModelInput {
  /** HWC, spec.height × spec.width × spec.channels values, scaled per spec.scaling. */
  data: Float32Array;
  /** Size after EXIF orientation, before resizing. */
  originalWidth: number;
  originalHeight: number;
  /** sha256 (hex) of the file's bytes. */
  sha256: string;
}

/** Caffe-style ImageNet means in B, G, R order (Keras VGG16 `preprocess_input`). */
export const IMAGENET_BGR_MEAN: readonly [number, number, number] = [103.939, 116.779, 123.68];

/**
 * Reads `file` once, hashes it, decodes and resizes it to `spec` and scales the pixels.
 * Throws ImageError (see image-error.ts) for files that cannot be used, a colour picture included
 * (NOT_GREY, see colour-check.ts): no model here should score one.
 */
export async function loadForModel(file: string, spec: InputSpec, opts: PreprocessOptions = {}): Promise<ModelInput> {
  checkSpec(spec);
  const buffer = await readImageFile(file);
  const sha256 = createHash('sha256').update(buffer).digest('hex');
  const resized = await resizeToSpec(buffer, spec, { ...opts, file });
  const notGrey = notGreyDetail(resized.colouredShare);
  if (notGrey) throw new ImageError(file, 'NOT_GREY', notGrey);
  return {
    data: pixelsToFloat(resized.pixels, spec),
    originalWidth: resized.originalWidth,
    originalHeight: resized.originalHeight,
    sha256,
  };
}

/**
 * Decodes image bytes and brings them to spec's size and channel count as 8-bit HWC pixels:
 * `stretch` ignores aspect, `letterbox` fits inside with black padding, `crop` covers and cuts
 * the centre; then normalises the tone when spec.tone says so (spec.toneByChannel: channel c is the grey image under
 * its own tone). Colour → grey uses ITU-R 601 luma exactly as PIL `convert('L')`; grey → RGB
 * replicates the channel. `opts.file` names the source in error messages. `colouredShare` is the share of the
 * resized pixels that are coloured (colour-check.ts; 0 for a grey source).
 */
export async function resizeToSpec(
  buffer: Uint8Array,
  spec: InputSpec,
  opts: PreprocessOptions & { file?: string } = {},
): Promise<{ pixels: Uint8Array; originalWidth: number; originalHeight: number; colouredShare: number }> {
  checkSpec(spec);
  const file = opts.file ?? '(image)';
  const original = await inspectImage(buffer, file);
  let source = buffer;
  let header = original;
  if (spec.sourceForm && Math.max(original.width, original.height) > spec.sourceForm.maxSide) {
    source = await toSourceForm(buffer, original, spec.sourceForm, file);
    header = await inspectImage(source, file);
  }
  const zoom = opts.zoom ?? 1;
  if (!(zoom >= 1 && zoom <= 2)) throw new Error(`zoom ${zoom}: give a number from 1 to 2`);
  const [w, h] = [Math.round(spec.width * zoom), Math.round(spec.height * zoom)];
  let pipeline = openPixels(source, header).resize(w, h, {
    fit: spec.resize === 'stretch' ? 'fill' : spec.resize === 'letterbox' ? 'contain' : 'cover',
    position: 'centre',
    background: { r: 0, g: 0, b: 0, alpha: 1 },
    kernel: opts.kernel ?? 'linear',
    fastShrinkOnLoad: false,
  });
  if (zoom !== 1) pipeline = pipeline.extract({ left: (w - spec.width) >> 1, top: (h - spec.height) >> 1, width: spec.width, height: spec.height });
  const raw = await toRawPixels(pipeline, buffer, file);
  if (raw.width !== spec.width || raw.height !== spec.height) {
    throw new Error(`resize gave ${raw.width}×${raw.height}, expected ${spec.width}×${spec.height}`);
  }
  const pixels = spec.toneByChannel ? toneStack(convertChannels(raw.data, raw.channels, 1), spec.toneByChannel) : convertChannels(raw.data, raw.channels, spec.channels);
  return {
    pixels: spec.tone ? applyTone(pixels, spec.tone) : pixels,
    originalWidth: original.width,
    originalHeight: original.height,
    colouredShare: colouredShare(raw.data, raw.channels),
  };
}

/**
 * The image as the training images were made (see InputSpec.sourceForm): long side shrunk to `form.maxSide`
 * with Lanczos-3, then encoded as JPEG at `form.jpegQuality` (grey stays grey). Returns the JPEG bytes.
 */
export async function toSourceForm(buffer: Uint8Array, header: ImageHeader, form: SourceForm, file = '(image)'): Promise<Uint8Array> {
  const pipeline = openPixels(buffer, header)
    .resize(form.maxSide, form.maxSide, { fit: 'inside', kernel: 'lanczos3', fastShrinkOnLoad: false })
    .jpeg({ quality: form.jpegQuality });
  try {
    return new Uint8Array(await pipeline.toBuffer());
  } catch (e) {
    throw imageErrorFromSharp(e, buffer, file);
  }
}

/** Converts interleaved 8-bit pixels between 1 and 3 channels (luma 601 / replication). */
export function convertChannels(pixels: Uint8Array, from: number, to: 1 | 3): Uint8Array {
  if (from === to) return pixels;
  if (from === 1 && to === 3) {
    const out = new Uint8Array(pixels.length * 3);
    for (let i = 0, j = 0; i < pixels.length; i++, j += 3) {
      const v = pixels[i];
      out[j] = v;
      out[j + 1] = v;
      out[j + 2] = v;
    }
    return out;
  }
  if (from === 3 && to === 1) {
    const n = pixels.length / 3;
    const out = new Uint8Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      // PIL's integer form of L = 0.299 R + 0.587 G + 0.114 B.
      out[i] = (pixels[j] * 19595 + pixels[j + 1] * 38470 + pixels[j + 2] * 7471 + 0x8000) >> 16;
    }
    return out;
  }
  throw new Error(`cannot convert ${from}-channel pixels to ${to} channels`);
}

/**
 * Scales 8-bit HWC pixels (spec.channels interleaved, RGB order) to Float32 per spec.scaling:
 * `scale255` → x/255; `raw` → x; `samplewise` → (x − mean)/max(std, 1e-6) over the whole image;
 * `imagenet` → Keras VGG caffe mode: channels reordered to BGR, ImageNet BGR means subtracted,
 * no scaling (3 channels only).
 */
export function pixelsToFloat(pixels: Uint8Array, spec: InputSpec): Float32Array {
  const expected = spec.height * spec.width * spec.channels;
  if (pixels.length !== expected) {
    throw new Error(`expected ${expected} pixel values for ${spec.height}×${spec.width}×${spec.channels}, got ${pixels.length}`);
  }
  const out = new Float32Array(pixels.length);
  switch (spec.scaling) {
    case 'scale255':
      for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
      return out;
    case 'raw':
      out.set(pixels);
      return out;
    case 'samplewise': {
      let sum = 0;
      for (let i = 0; i < pixels.length; i++) sum += pixels[i];
      const mean = sum / pixels.length;
      let sq = 0;
      for (let i = 0; i < pixels.length; i++) sq += (pixels[i] - mean) ** 2;
      const std = Math.max(Math.sqrt(sq / pixels.length), 1e-6);
      for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] - mean) / std;
      return out;
    }
    case 'imagenet': {
      if (spec.channels !== 3) throw new Error("scaling 'imagenet' needs 3 channels");
      const [mb, mg, mr] = IMAGENET_BGR_MEAN;
      for (let i = 0; i < pixels.length; i += 3) {
        out[i] = pixels[i + 2] - mb;
        out[i + 1] = pixels[i + 1] - mg;
        out[i + 2] = pixels[i] - mr;
      }
      return out;
    }
    default:
      throw new Error(`unknown scaling '${String(spec.scaling)}'`);
  }
}

function checkSpec(spec: InputSpec): void {
  const okSide = (n: number) => Number.isInteger(n) && n > 0 && n <= 8192;
  if (!okSide(spec.width) || !okSide(spec.height)) {
    throw new Error(`invalid input size ${spec.width}×${spec.height}`);
  }
  if (spec.channels !== 1 && spec.channels !== 3) throw new Error(`invalid channel count ${String(spec.channels)}`);
  if (spec.scaling === 'imagenet' && spec.channels !== 3) throw new Error("scaling 'imagenet' needs 3 channels");
  if (spec.toneByChannel && (spec.toneByChannel.length !== spec.channels || spec.tone)) throw new Error(`toneByChannel gives ${spec.toneByChannel.length} tone(s) for ${spec.channels} channel(s)${spec.tone ? ' beside a tone' : ''}; give one per channel and no tone`);
}

/** Interleaves the grey `pixels` under each tone of `tones` as the channels of one image (see InputSpec.toneByChannel). */
export function toneStack(grey: Uint8Array, tones: readonly ChannelTone[]): Uint8Array {
  const planes = new Map<ChannelTone, Uint8Array>();
  for (const t of tones) if (!planes.has(t)) planes.set(t, t === 'none' ? grey : applyTone(grey, t));
  const c = tones.length;
  const out = new Uint8Array(grey.length * c);
  tones.forEach((t, k) => {
    const plane = planes.get(t)!;
    for (let i = 0; i < grey.length; i++) out[i * c + k] = plane[i];
  });
  return out;
}
