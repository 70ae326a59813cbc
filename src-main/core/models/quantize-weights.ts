// Compact weight storage. Each kernel (a float32 weight of rank ≥ 2: convolution, depthwise and dense
// kernels) is stored as 8- or 16-bit integers with its own affine map, value = q·scale + min: TensorFlow.js's
// own format (what `tensorflowjs_converter --quantize_uint8/uint16` writes), so any tfjs loader reads it.
// Biases and BatchNorm vectors stay float32 (tiny, and a shifted variance moves every activation). A value
// moves by at most scale/2 = (max − min)/510 for uint8. Quantising values that are already on the grid
// (a model loaded from 8-bit files, such as nsfwjs's bundled backbones) gives the same values back.
// `mixed` stores a kernel in 8 bits unless that would lose more than MIXED_TOLERANCE of it (relative RMS
// error), else in 16 bits: a kernel's 8-bit grid can be too coarse for a fine-tuned layer (a MobileNetV2
// fine-tuned on equalized images lost 0.9–3 % of six kernels and moved its NORMAL mean logit by 4.6 in 8 bits,
// not at all in 16), while kernels already on an 8-bit grid cost nothing.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** How a model's kernels are stored on disk. */
export type WeightStorage = 'float32' | 'uint8' | 'uint16' | 'mixed';

/** Under `mixed` storage, a kernel whose 8-bit relative RMS error exceeds this is stored in 16 bits. */
export const MIXED_TOLERANCE = 0.005;

/** What storing a model's weights at a given precision did. */
export interface QuantizeStats {
  /** Kernels stored as integers. */
  quantizedTensors: number;
  /** Bytes of weights before (float32) and after. */
  bytesBefore: number;
  bytesAfter: number;
  /** Largest absolute change of any weight. */
  maxAbsError: number;
  /** Kernels stored as 16-bit integers (all quantised ones for uint16; under `mixed`, those 8 bits would spoil). */
  uint16Tensors: number;
}

const LEVELS: Record<'uint8' | 'uint16', number> = { uint8: 255, uint16: 65535 };

/** True for the weights that are stored as integers: float32, rank ≥ 2, not already quantised. */
function isKernel(spec: tf.io.WeightsManifestEntry): boolean {
  return spec.dtype === 'float32' && spec.shape.length >= 2 && !spec.quantization;
}

/** Per-tensor affine parameters; a constant tensor gets scale 1 (every q is 0). */
function affine(values: Float32Array, levels: number): { min: number; scale: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error('a weight is NaN or infinite; this model cannot be stored compactly (retrain it)');
  return { min, scale: max > min ? (max - min) / levels : 1 };
}

/** The encoding `storage` gives one kernel: under `mixed`, 8-bit unless that loses more than MIXED_TOLERANCE. */
function encodeKernel(values: Float32Array, storage: Exclude<WeightStorage, 'float32'>): ReturnType<typeof encode> & { dtype: 'uint8' | 'uint16' } {
  if (storage !== 'mixed') return { ...encode(values, LEVELS[storage]), dtype: storage };
  const coarse = encode(values, LEVELS.uint8);
  let err = 0;
  let norm = 0;
  for (let i = 0; i < values.length; i++) {
    err += (coarse.decoded[i] - values[i]) ** 2;
    norm += values[i] ** 2;
  }
  return err <= MIXED_TOLERANCE ** 2 * norm ? { ...coarse, dtype: 'uint8' } : { ...encode(values, LEVELS.uint16), dtype: 'uint16' };
}

/** The integer codes of `values`, and the values they decode to (as tfjs decodes them). */
function encode(values: Float32Array, levels: number): { codes: Uint8Array | Uint16Array; decoded: Float32Array; min: number; scale: number; maxAbsError: number } {
  const { min, scale } = affine(values, levels);
  const codes = levels === 255 ? new Uint8Array(values.length) : new Uint16Array(values.length);
  const decoded = new Float32Array(values.length);
  let maxAbsError = 0;
  for (let i = 0; i < values.length; i++) {
    const q = Math.min(levels, Math.max(0, Math.round((values[i] - min) / scale)));
    codes[i] = q;
    decoded[i] = q * scale + min;
    maxAbsError = Math.max(maxAbsError, Math.abs(decoded[i] - values[i]));
  }
  return { codes, decoded, min, scale, maxAbsError };
}

/**
 * Re-encodes serialised weights (specs + one buffer, in order) with kernels as `storage` integers; other
 * weights are copied unchanged. float32 returns the input as is.
 */
export function quantizeWeightData(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
  storage: WeightStorage,
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer; stats: QuantizeStats } {
  const none = { quantizedTensors: 0, bytesBefore: data.byteLength, bytesAfter: data.byteLength, maxAbsError: 0, uint16Tensors: 0 };
  if (storage === 'float32') return { specs, data, stats: none };
  const out: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  const stats: QuantizeStats = { ...none, bytesAfter: 0 };
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = n * (spec.quantization ? (spec.quantization.dtype === 'uint8' ? 1 : 2) : spec.dtype === 'bool' ? 1 : 4);
    if (offset + bytes > data.byteLength) throw new Error(`weight ${spec.name}: the weight data is shorter than its manifest says (damaged model files)`);
    if (!isKernel(spec)) {
      out.push(new Uint8Array(data.slice(offset, offset + bytes)));
      outSpecs.push(spec);
    } else {
      const values = new Float32Array(data.slice(offset, offset + bytes));
      const { codes, min, scale, maxAbsError, dtype } = encodeKernel(values, storage);
      stats.maxAbsError = Math.max(stats.maxAbsError, maxAbsError);
      out.push(new Uint8Array(codes.buffer));
      outSpecs.push({ ...spec, quantization: { dtype, min, scale } });
      stats.quantizedTensors++;
      if (dtype === 'uint16') stats.uint16Tensors++;
    }
    offset += bytes;
  }
  const all = new Uint8Array(out.reduce((s, b) => s + b.byteLength, 0));
  let at = 0;
  for (const b of out) {
    all.set(b, at);
    at += b.byteLength;
  }
  stats.bytesAfter = all.byteLength;
  return { specs: outSpecs, data: all.buffer, stats };
}

/**
 * Replaces each kernel of `model` by the values it will have once stored as `storage` (quantise, then
 * decode), so that scoring the model in memory scores exactly what is saved. Returns what it changed.
 */
export function roundWeightsTo(model: tfl.LayersModel, storage: WeightStorage): QuantizeStats {
  const stats: QuantizeStats = { quantizedTensors: 0, bytesBefore: 0, bytesAfter: 0, maxAbsError: 0, uint16Tensors: 0 };
  for (const w of model.weights) {
    const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    stats.bytesBefore += n * 4;
    if (storage === 'float32' || w.dtype !== 'float32' || w.shape.length < 2) {
      stats.bytesAfter += n * 4;
      continue;
    }
    const t = w.read();
    const values = t.dataSync() as Float32Array;
    const { decoded, maxAbsError, dtype } = encodeKernel(values, storage);
    stats.maxAbsError = Math.max(stats.maxAbsError, maxAbsError);
    const next = tf.tensor(decoded, t.shape, 'float32');
    w.write(next);
    next.dispose();
    stats.quantizedTensors++;
    if (dtype === 'uint16') stats.uint16Tensors++;
    stats.bytesAfter += n * (dtype === 'uint8' ? 1 : 2);
  }
  return stats;
}

/** One log line saying what `roundWeightsTo` did. */
export function describeRounding(stats: QuantizeStats, storage: WeightStorage): string {
  const kinds = storage === 'mixed' ? `${stats.quantizedTensors - stats.uint16Tensors} kernels as uint8 and ${stats.uint16Tensors} as uint16 (8 bits would lose over ${MIXED_TOLERANCE * 100} % of them)` : `${stats.quantizedTensors} kernels as ${storage}`;
  return `${kinds}: weights ${(stats.bytesBefore / 1e6).toFixed(1)} MB → ${(stats.bytesAfter / 1e6).toFixed(1)} MB, largest change of a weight ${stats.maxAbsError.toExponential(2)}`;
}
