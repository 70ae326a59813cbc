// ONNX conversions kept under $CXR_HOME/onnx-cache/, keyed by the weights' sha256 plus a hash of the
// topology and converter version; each entry was checked against TensorFlow.js when it was made.
import type * as tfl from '@tensorflow/tfjs-layers';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { sha256Hex, writeFileAtomic } from '../fs/atomic-write.ts';
import { cxrHome } from '../models/paths.ts';
import { CONVERTER_VERSION, convertToOnnx } from './convert-model.ts';
import { PARITY_TOLERANCE, checkParity, syntheticBatch } from './onnx-parity.ts';

/** The cache folder. */
export function onnxCacheDir(): string {
  return path.join(cxrHome(), 'onnx-cache');
}

interface CacheRecord {
  sha256: string;
  maxAbsDiff: number;
  modelId: string;
  created: string;
}

/**
 * The ONNX bytes of a model: from the cache when present and intact, else converted, checked on
 * synthetic inputs (≤ 1e-4) and cached. Throws when the model cannot be converted or does not match.
 */
export async function cachedOnnx(model: tfl.LayersModel, md: ModelMetadata, dir = onnxCacheDir()): Promise<{ onnx: Uint8Array; cached: boolean }> {
  const topology = sha256Hex(`${CONVERTER_VERSION}\n${JSON.stringify(model.toJSON(null, false))}`).slice(0, 16);
  const base = path.join(dir, `${md.weightsSha256}-${topology}`);
  try {
    const [bytes, rec] = await Promise.all([fsp.readFile(`${base}.onnx`), fsp.readFile(`${base}.json`, 'utf8')]);
    const onnx = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if ((JSON.parse(rec) as CacheRecord).sha256 === sha256Hex(onnx)) return { onnx, cached: true };
  } catch { /* not cached yet, or damaged: convert again */ }
  const onnx = convertToOnnx(model, `${md.id} v${md.version}`);
  const parity = await checkParity(model, onnx, md.input, syntheticBatch(md.input, 2));
  if (!parity.ok) throw new Error(`the ONNX conversion differs from TensorFlow.js by ${parity.maxAbsDiff.toExponential(3)} (> ${PARITY_TOLERANCE})`);
  try {
    await writeFileAtomic(`${base}.onnx`, onnx);
    const rec: CacheRecord = { sha256: sha256Hex(onnx), maxAbsDiff: parity.maxAbsDiff, modelId: md.id, created: new Date().toISOString() };
    await writeFileAtomic(`${base}.json`, JSON.stringify(rec, null, 2) + '\n');
  } catch { /* a read-only home only costs the conversion next time */ }
  return { onnx, cached: false };
}
