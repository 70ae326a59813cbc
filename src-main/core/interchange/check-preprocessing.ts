// `cxr import --check`: runs a model under each candidate preprocessing on a labelled folder, so a
// mismatch (AUC near 0.5, everything predicted one class) shows before the model is used.
import { promises as fsp } from 'node:fs';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelMetadata, Scaling } from '../../../src-shared/types.ts';
import { scanDataset } from '../dataset/scan.ts';
import { auc } from '../evaluation/metrics.ts';
import { pixelsToFloat, resizeToSpec } from '../imaging/preprocess.ts';
import { tfjsPredictor } from '../inference/predictor.ts';

/** One candidate's result. */
export interface PreprocessingCheck {
  scaling: Scaling;
  n: number;
  auc: number;
  /** Fraction predicted positive at `threshold`. */
  fractionPositive: number;
  meanProbability: number;
  skipped?: string;
}

/** What the check needs: the model, its head and input (as import would store them), the folder. */
export interface CheckOptions {
  model: tfl.LayersModel;
  metadata: Pick<ModelMetadata, 'input' | 'classNames' | 'positiveClass' | 'output' | 'threshold'>;
  folder: string;
  candidates?: Scaling[];
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Runs the model under each candidate scaling on `folder` (NORMAL/ and PNEUMONIA/ or the model's classes). */
export async function checkPreprocessing(o: CheckOptions): Promise<{ results: PreprocessingCheck[]; failures: string[] }> {
  const md = o.metadata;
  const scan = await scanDataset(o.folder, { hash: false });
  const lower = md.classNames.map((c) => c.toLowerCase());
  const items = scan.items.filter((it) => it.label != null && lower.includes(it.label.toLowerCase()));
  if (!items.length) throw new Error(`${o.folder}: no images in ${md.classNames.join('/')} sub-folders; --check needs a labelled folder`);
  const failures: string[] = [];
  const pixels: Uint8Array[] = [];
  const labels: number[] = [];
  for (const [i, it] of items.entries()) {
    try {
      pixels.push((await resizeToSpec(await fsp.readFile(it.path), md.input, { file: it.path })).pixels);
      labels.push(it.label!.toLowerCase() === md.positiveClass.toLowerCase() ? 1 : 0);
    } catch (e) {
      failures.push(`${it.path}: ${(e as Error).message}`);
    }
    o.onProgress?.(i + 1, items.length);
  }
  const candidates = o.candidates ?? ['scale255', 'raw', 'samplewise', 'imagenet'];
  const size = md.input.height * md.input.width * md.input.channels;
  const bs = o.batchSize ?? 8;
  const results: PreprocessingCheck[] = [];
  for (const scaling of candidates) {
    if (scaling === 'imagenet' && md.input.channels !== 3) {
      results.push({ scaling, n: 0, auc: NaN, fractionPositive: NaN, meanProbability: NaN, skipped: 'needs 3 channels' });
      continue;
    }
    const spec = { ...md.input, scaling };
    const predictor = tfjsPredictor(o.model, { ...md, input: spec } as ModelMetadata);
    const probs: number[] = [];
    for (let s = 0; s < pixels.length; s += bs) {
      const chunk = pixels.slice(s, s + bs);
      const batch = new Float32Array(chunk.length * size);
      chunk.forEach((p, k) => batch.set(pixelsToFloat(p, spec), k * size));
      probs.push(...(await predictor.predict(batch, chunk.length)).probabilities);
    }
    const n = probs.length;
    results.push({
      scaling, n, auc: auc(labels, probs),
      fractionPositive: probs.filter((p) => p >= md.threshold).length / n,
      meanProbability: probs.reduce((a, b) => a + b, 0) / n,
    });
  }
  return { results, failures };
}
