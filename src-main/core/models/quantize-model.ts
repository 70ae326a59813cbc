// `cxr quantize`: stores a copy of a model with its kernels as 8- or 16-bit integers (about 4× or 2×
// smaller), under a new id, and measures what that changed: on the selection set of a dataset folder
// when one is given (never its test split), the float and the stored model side by side.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { EvaluationSummary, FileFailure, ModelMetadata } from '../../../src-shared/types.ts';
import { calibrateAll } from '../evaluation/calibrate.ts';
import { brierScore } from '../evaluation/calibration.ts';
import { auc, summarise } from '../evaluation/metrics.ts';
import { predictArrays } from '../training/fit.ts';
import { DATA_MANIFEST_FILE } from '../training/data-manifest.ts';
import { loadImages } from '../training/load-images.ts';
import { folderSplit, toLoadable } from '../training/training-data.ts';
import { modelFittedHashes } from './fitted-images.ts';
import { renderModelCard } from './model-card.ts';
import { userModelsDir } from './paths.ts';
import { describeRounding, roundWeightsTo, type WeightStorage } from './quantize-weights.ts';
import { loadStoredModel, resolveModel, saveModel } from './store.ts';

/** What `cxr quantize` asks for. */
export interface QuantizeRequest {
  model: string;
  id: string;
  name?: string;
  storage: Exclude<WeightStorage, 'float32'>;
  outDir?: string;
  modelsDir?: string;
  /** Dataset folder whose selection set (seeded hold-out of train + val/) compares the two models. */
  select?: string;
  seed: number;
  holdoutFraction: number;
  maxPerClass?: number;
  command: string;
  log?: (line: string) => void;
}

/** Selection-set scores of the float model and of the stored one. */
export interface QuantizeComparison {
  n: number;
  before: { auc: number; brier: number };
  after: { auc: number; brier: number };
  /** Largest change of P(positive) on any selection image. */
  maxProbabilityChange: number;
  /** Images whose label at the model's threshold changed. */
  flipped: number;
}

const fmt = (s: { auc: number; brier: number }): string => `AUC ${s.auc.toFixed(4)}, Brier ${s.brier.toFixed(4)}`;

/** Quantises, compares (with `select`) and saves; returns the new metadata, folder, comparison and skipped files. */
export async function quantizeModel(req: QuantizeRequest): Promise<{ metadata: ModelMetadata; dir: string; comparison: QuantizeComparison | null; failures: FileFailure[] }> {
  const log = req.log ?? (() => {});
  const stored = await resolveModel(req.model, { modelsDir: req.modelsDir });
  const src = stored.metadata;
  if (src.weightStorage && src.weightStorage.dtype !== 'float32') throw new Error(`${stored.dir}: model "${src.id}" is already stored as ${src.weightStorage.dtype}; quantise the float32 model it came from`);
  const model = await loadStoredModel(stored);
  try {
    const failures: FileFailure[] = [];
    let comparison: QuantizeComparison | null = null;
    let sel: Awaited<ReturnType<typeof loadImages>> | undefined;
    let before: Float32Array | undefined;
    const { input } = src;
    const probs = (): Float32Array => {
      const p = predictArrays(model, sel!.pixels, input.height, input.width, input.channels);
      calibrateAll(src.calibration, p);
      return p;
    };
    let where = '';
    if (req.select) {
      const split = await folderSplit(req.select, req);
      sel = await loadImages(toLoadable(split.selection), input, { onProgress: (d, t) => d % 100 === 0 && log(`decoded ${d}/${t}`) });
      failures.push(...sel.failures);
      for (const f of sel.failures) log(`skipped ${f.path}: ${f.reason}`);
      const { hashes: fitted } = await modelFittedHashes(stored, { modelsDir: req.modelsDir });
      const overlap = sel.sha256.filter((h) => fitted.has(h)).length;
      if (overlap) log(`warning: ${overlap} selection images were used to fit ${src.id}; give the --seed, --holdout and --max-per-class it was trained with`);
      where = `the selection set of ${req.select} (seeded ${Math.round(req.holdoutFraction * 100)}% hold-out of train + val/)`;
      before = probs();
    }
    const stats = roundWeightsTo(model, req.storage);
    log(describeRounding(stats, req.storage));
    let metrics: ModelMetadata['metrics'];
    if (sel && before) {
      const after = probs();
      let maxChange = 0;
      let flipped = 0;
      for (let i = 0; i < after.length; i++) {
        maxChange = Math.max(maxChange, Math.abs(after[i] - before[i]));
        if (after[i] >= src.threshold !== before[i] >= src.threshold) flipped++;
      }
      const score = (p: Float32Array) => ({ auc: auc(sel!.labels, p), brier: brierScore(sel!.labels, p) });
      comparison = { n: sel.labels.length, before: score(before), after: score(after), maxProbabilityChange: maxChange, flipped };
      log(`selection, float32: ${fmt(comparison.before)}; ${req.storage}: ${fmt(comparison.after)}; largest change of P ${maxChange.toFixed(4)}, ${flipped} of ${comparison.n} labels changed at threshold ${src.threshold.toFixed(3)}`);
      metrics = { selection: summarise(`selection: ${where}`, sel.labels, Array.from(after), src.threshold) };
    }
    const now = new Date();
    const provenance = `Quantised copy of ${src.id} v${src.version} (float32 weights sha256 ${src.weightsSha256.slice(0, 12)}…) by \`${req.command}\``;
    const measured = comparison
      ? `; on ${where}, ${comparison.n} images: float32 ${fmt(comparison.before)}, ${req.storage} ${fmt(comparison.after)}, largest change of P ${comparison.maxProbabilityChange.toFixed(4)}, ${comparison.flipped} labels changed at the threshold.`
      : '; not re-scored (no --select): the metrics of the original were dropped, measure this model with cxr evaluate.';
    const metadata: Omit<ModelMetadata, 'weightsSha256' | 'parameters'> = {
      ...src,
      id: req.id,
      name: req.name ?? `${src.name} (${req.storage})`,
      version: now.toISOString().replace(/[-:]/g, '').replace(/\..*/, ''),
      created: now.toISOString(),
      metrics,
      weightStorage: { dtype: req.storage, maxAbsError: stats.maxAbsError },
      thresholdChosenBy: copiedThreshold(src, req.storage, metrics?.selection),
      notes: `${provenance}${measured}${src.notes ? `\n\nNotes of the original: ${src.notes}` : ''}`,
    };
    const dir = req.outDir ? path.resolve(req.outDir) : path.join(userModelsDir(req.modelsDir), req.id);
    if (path.resolve(dir) === path.resolve(stored.dir)) throw new Error(`${dir}: that is the original model's folder; give another --out or --id`);
    const manifest = path.join(stored.dir, DATA_MANIFEST_FILE);
    const fittedOn: Record<string, string> = existsSync(manifest) ? { [DATA_MANIFEST_FILE]: readFileSync(manifest, 'utf8') } : {};
    const saved = await saveModel(model, metadata, dir, (full) => ({ 'MODEL_CARD.md': renderModelCard(full), ...fittedOn }));
    return { metadata: saved, dir, comparison, failures };
  } finally {
    model.dispose();
  }
}

// The copy keeps the original's threshold; its stated rates were measured on the float32 weights, so say so,
// and give this copy's own rates at that threshold where the selection set was scored.
function copiedThreshold(src: ModelMetadata, storage: string, selection?: EvaluationSummary): string {
  const own = selection
    ? `; this ${storage} copy, at the same threshold on that selection set (${selection.n} images): sensitivity ${selection.sensitivity.value.toFixed(3)}, specificity ${selection.specificity.value.toFixed(3)}`
    : `; this ${storage} copy was not re-scored (cxr quantize --select, or cxr evaluate, measures it)`;
  return `${src.thresholdChosenBy} [rates of the float32 original${own}]`;
}
