// Checks an ONNX export against the TensorFlow.js model it came from: the same batch through both,
// the largest absolute difference of the raw outputs (before any calibration).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { InputSpec } from '../../../src-shared/types.ts';
import { listImageFiles } from '../dataset/list-files.ts';
import { loadForModel } from '../imaging/preprocess.ts';
import { openOrtSession } from './ort-session.ts';

/** The tolerance an export must meet on every output value. */
export const PARITY_TOLERANCE = 1e-4;

/** A batch of preprocessed inputs and where it came from. */
export interface ParityBatch {
  data: Float32Array;
  n: number;
  /** Image files used, or empty for synthetic inputs. */
  files: string[];
}

/** Result of a parity check. */
export interface ParityResult {
  maxAbsDiff: number;
  n: number;
  outputs: number;
  ok: boolean;
}

/** Deterministic pseudo-random inputs in the range the model's scaling produces (for checks without images). */
export function syntheticBatch(spec: InputSpec, n = 2, seed = 7): ParityBatch {
  const size = spec.height * spec.width * spec.channels;
  const data = new Float32Array(n * size);
  let s = seed >>> 0;
  const [lo, hi] = spec.scaling === 'raw' ? [0, 255] : spec.scaling === 'scale255' ? [0, 1] : [-2, 2];
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return { data, n, files: [] };
}

/**
 * Up to `count` images from a labelled folder (class sub-folders), spread over the classes, sorted
 * by name so the same files are picked every time, preprocessed with `loadForModel`.
 */
export async function imageBatch(folder: string, spec: InputSpec, count = 8): Promise<ParityBatch> {
  const { files } = await listImageFiles([folder]);
  if (!files.length) throw new Error(`${folder}: no .jpg/.jpeg/.png images to validate the export with; pass a folder of X-rays`);
  const byDir = new Map<string, string[]>();
  for (const f of files.sort()) byDir.set(path.dirname(f), [...(byDir.get(path.dirname(f)) ?? []), f]);
  const groups = [...byDir.values()];
  const picked: string[] = [];
  for (let i = 0; picked.length < Math.min(count, files.length); i++) {
    for (const g of groups) if (i < g.length && picked.length < count) picked.push(g[i]);
  }
  const size = spec.height * spec.width * spec.channels;
  const data = new Float32Array(picked.length * size);
  for (let i = 0; i < picked.length; i++) data.set((await loadForModel(picked[i], spec)).data, i * size);
  return { data, n: picked.length, files: picked };
}

/** True when `dir` exists and is a folder. */
export async function isFolder(dir: string): Promise<boolean> {
  return fsp.stat(dir).then((s) => s.isDirectory(), () => false);
}

/** Runs `batch` through the tfjs model and through onnxruntime on `onnx`; compares every output value. */
export async function checkParity(model: tfl.LayersModel, onnx: Uint8Array, spec: InputSpec, batch: ParityBatch, threads?: number): Promise<ParityResult> {
  const dims = [batch.n, spec.height, spec.width, spec.channels];
  const y = tf.tidy(() => model.predict(tf.tensor4d(batch.data, dims as [number, number, number, number])) as tf.Tensor);
  const expected = (await y.data()) as Float32Array;
  y.dispose();
  const session = await openOrtSession(onnx, threads);
  try {
    const got = await session.run(batch.data, dims);
    if (got.data.length !== expected.length) throw new Error(`the ONNX model gives ${got.data.length} output values, TensorFlow.js ${expected.length}`);
    let maxAbsDiff = 0;
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(got.data[i] - expected[i]);
      maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
    }
    return { maxAbsDiff, n: batch.n, outputs: expected.length, ok: maxAbsDiff <= PARITY_TOLERANCE };
  } finally {
    await session.release();
  }
}
