/** Runs a stored model over a labelled folder and returns truth and P(positive) per image. */
import path from 'node:path';
import type { FileFailure } from '../../../src-shared/types.ts';
import { classifyFiles } from '../classify/classify-files.ts';
import type { DatasetItem } from '../dataset/scan.ts';
import { engineInfo } from '../engine/backend.ts';
import { tfjsPredictor } from '../inference/predictor.ts';
import { loadStoredModel, type StoredModel } from '../models/store.ts';

/** Truth and scores of one folder. */
export interface ScoredFolder {
  paths: string[];
  sha256: string[];
  labels: number[];
  probabilities: number[];
  failures: FileFailure[];
  /** Images the model's familiarity check would refuse in classify (UNFAMILIAR): scored here all the same. */
  unfamiliar: string[];
}

/**
 * Scores labelled `items` with a stored model (images its familiarity check would refuse too, listed in `unfamiliar`). With `raw`, the model's own calibration (if any) is
 * not applied, so a new calibration can be fitted on the raw output.
 */
export async function scoreItems(stored: StoredModel, items: DatasetItem[], opts: { raw?: boolean; onProgress?: (d: number, t: number) => void } = {}): Promise<ScoredFolder> {
  const md = opts.raw ? { ...stored.metadata, calibration: undefined } : stored.metadata;
  const usable = items.filter((it) => it.label != null && md.classNames.some((c) => c.toLowerCase() === String(it.label).toLowerCase()));
  if (!usable.length) throw new Error(`no images in ${md.classNames.join('/')} sub-folders${items[0] ? ` under ${path.dirname(path.dirname(items[0].path))}` : ''}`);
  const truth = new Map(usable.map((it) => [it.path, String(it.label).toLowerCase() === md.positiveClass.toLowerCase() ? 1 : 0]));
  const predictor = tfjsPredictor(await loadStoredModel(stored), md);
  try {
    const outcome = await classifyFiles({ files: usable.map((it) => it.path), metadata: md, predictor, engine: engineInfo(), allowUnfamiliar: true, onProgress: opts.onProgress });
    return {
      paths: outcome.records.map((r) => r.path),
      sha256: outcome.records.map((r) => r.sha256),
      labels: outcome.records.map((r) => truth.get(r.path)!),
      probabilities: outcome.records.map((r) => r.probability),
      failures: outcome.failures,
      unfamiliar: outcome.records.filter((r) => r.unfamiliar).map((r) => r.path),
    };
  } finally {
    predictor.dispose();
  }
}
