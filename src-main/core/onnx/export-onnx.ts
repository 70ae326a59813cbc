// `cxr export MODEL --onnx`: convert, check against TensorFlow.js on real images, write atomically
// with a sha256 file beside it.
import type * as tfl from '@tensorflow/tfjs-layers';
import path from 'node:path';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { sha256Hex, writeFileAtomic } from '../fs/atomic-write.ts';
import { sharedDataDir } from '../models/paths.ts';
import { convertToOnnx } from './convert-model.ts';
import { PARITY_TOLERANCE, checkParity, imageBatch, isFolder, syntheticBatch, type ParityResult } from './onnx-parity.ts';

/** What an export needs. */
export interface OnnxExportOptions {
  out: string;
  /** Labelled folder of X-rays to validate with; default ../shared/data/test-dev (synthetic inputs when absent). */
  validateWith?: string;
  /** Images used for the check (default 8). */
  images?: number;
}

/** What an export produced. */
export interface OnnxExportResult {
  file: string;
  sha256: string;
  bytes: number;
  parity: ParityResult;
  /** Where the inputs of the check came from. */
  checkedOn: string;
}

/** Text of the `.sha256` file written beside an export (sha256sum format). */
export function sha256Line(sha: string, file: string): string {
  return `${sha}  ${path.basename(file)}\n`;
}

/**
 * Converts a model to ONNX, runs real images (or, without them, synthetic inputs) through both
 * onnxruntime and TensorFlow.js, and writes the file (temp + rename) plus `<out>.sha256` only when
 * every output differs by ≤ 1e-4. Throws with the numbers otherwise.
 */
export async function exportOnnx(model: tfl.LayersModel, md: ModelMetadata, o: OnnxExportOptions): Promise<OnnxExportResult> {
  const onnx = convertToOnnx(model, `${md.name} (${md.id} v${md.version}); input NHWC ${md.input.height}x${md.input.width}x${md.input.channels}, ${md.input.scaling}; output ${md.output} over ${md.classNames.join(',')}`);
  const folder = o.validateWith ?? path.join(sharedDataDir(), 'test-dev');
  const explicit = o.validateWith !== undefined;
  let batch;
  let checkedOn: string;
  if (explicit || (await isFolder(folder))) {
    batch = await imageBatch(folder, md.input, o.images ?? 8);
    checkedOn = `${batch.n} image(s) from ${folder}`;
  } else {
    batch = syntheticBatch(md.input, o.images ?? 8);
    checkedOn = `${batch.n} synthetic input(s) (no images at ${folder}; pass --validate-with DIR to check on X-rays)`;
  }
  const parity = await checkParity(model, onnx, md.input, batch);
  if (!parity.ok) {
    throw new Error(`the ONNX export of ${md.id} does not match TensorFlow.js: max |difference| ${parity.maxAbsDiff.toExponential(3)} > ${PARITY_TOLERANCE} over ${parity.outputs} output value(s) on ${checkedOn}; nothing was written. Classify with --engine tfjs, and report the model's layers`);
  }
  const sha256 = sha256Hex(onnx);
  try {
    await writeFileAtomic(o.out, onnx);
    await writeFileAtomic(`${o.out}.sha256`, sha256Line(sha256, o.out));
  } catch (e) {
    throw new Error(`cannot write ${o.out}: ${(e as Error).message}; check the folder exists and is writable, or pass --out FILE`);
  }
  return { file: o.out, sha256, bytes: onnx.length, parity, checkedOn };
}
