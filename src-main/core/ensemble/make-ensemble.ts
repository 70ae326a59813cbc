// `cxr ensemble`: combines stored models into one new stored model, scores it and each member on the
// selection set of a dataset folder (never its test split), and writes metadata and a model card.
import * as tfl from '@tensorflow/tfjs-layers';
import path from 'node:path';
import type { FileFailure, InputSpec, ModelMetadata, SourceForm } from '../../../src-shared/types.ts';
import { brierScore } from '../evaluation/calibration.ts';
import { auc, chooseThreshold, summarise } from '../evaluation/metrics.ts';
import { modelFittedHashes } from '../models/fitted-images.ts';
import { renderModelCard } from '../models/model-card.ts';
import { userModelsDir } from '../models/paths.ts';
import { describeRounding, roundWeightsTo, type WeightStorage } from '../models/quantize-weights.ts';
import { loadStoredModel, resolveModel, saveModel, type StoredModel } from '../models/store.ts';
import { predictArrays } from '../training/fit.ts';
import { loadImages } from '../training/load-images.ts';
import { CLASS_NAMES, folderSplit, toLoadable } from '../training/training-data.ts';
import { buildEnsemble, type EnsembleMember } from './build-ensemble.ts';
import { checkSelectionOverlap, type OverlapMember } from './selection-overlap.ts';

/** What `cxr ensemble` asks for. */
export interface EnsembleRequest {
  /** Model ids or folders, at least two. */
  members: string[];
  id: string;
  name: string;
  outDir?: string;
  modelsDir?: string;
  /** Dataset folder whose selection set (seeded hold-out of train + val/) scores the ensemble and sets its threshold. */
  select?: string;
  /** How the ensemble's kernels are stored (default float32); rounded before scoring, so scores are the stored model's. */
  weights?: WeightStorage;
  seed: number;
  holdoutFraction: number;
  /** The per-class cap the members were trained with (cxr train --max-per-class), so the split is theirs. */
  maxPerClass?: number;
  /** Bring large images to the form of the members' training images first (see InputSpec.sourceForm). */
  sourceForm?: SourceForm;
  command: string;
  log?: (line: string) => void;
}

/** Selection AUC and Brier score of each member and of the ensemble (Brier still separates models when AUC is near 1). */
export interface EnsembleScores {
  members: Array<{ id: string; auc: number; brier: number }>;
  ensemble: { auc: number; brier: number };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const score = (labels: number[], probs: number[]) => ({ auc: auc(labels, probs), brier: brierScore(labels, probs) });
const fmt = (s: { auc: number; brier: number }): string => `AUC ${s.auc.toFixed(4)}, Brier ${s.brier.toFixed(4)}`;

/** Builds, scores and saves the ensemble; returns its metadata, folder, per-member scores and skipped files. */
export async function makeEnsemble(req: EnsembleRequest): Promise<{ metadata: ModelMetadata; dir: string; scores: EnsembleScores | null; failures: FileFailure[] }> {
  const log = req.log ?? (() => {});
  const members: Array<EnsembleMember & { stored: StoredModel }> = [];
  let built: Awaited<ReturnType<typeof buildEnsemble>> | undefined;
  try {
    for (const ref of req.members) {
      const stored = await resolveModel(ref, { modelsDir: req.modelsDir });
      members.push({ model: await loadStoredModel(stored), metadata: stored.metadata, stored });
    }
    const ids = members.map((m) => m.metadata.id);
    if (new Set(ids).size !== ids.length) throw new Error(`the same model is named twice (${ids.join(', ')}); an ensemble combines different models`);
    built = await buildEnsemble(members);
    const { model, logits } = built;
    const input: InputSpec = req.sourceForm ? { ...built.input, sourceForm: req.sourceForm } : built.input;
    log(`ensemble of ${ids.join(' + ')}: input ${input.width}×${input.height}×${input.channels}${input.toneByChannel ? ` (grey; channel tones ${input.toneByChannel.join(', ')})` : ''}${input.sourceForm ? `, larger images first shrunk to ${input.sourceForm.maxSide} px and JPEG q${input.sourceForm.jpegQuality} round-tripped` : ''}, ${model.countParams().toLocaleString('en-US')} parameters`);
    const storage = req.weights ?? 'float32';
    const rounded = roundWeightsTo(model, storage);
    if (storage !== 'float32') log(describeRounding(rounded, storage));
    let threshold = 0.5;
    let thresholdChosenBy = 'default 0.5 (no selection data given; choose one with `cxr threshold <folder> --youden`)';
    let metrics: ModelMetadata['metrics'];
    let scores: EnsembleScores | null = null;
    const failures: FileFailure[] = [];
    if (req.select) {
      const split = await folderSplit(req.select, req);
      const sel = await loadImages(toLoadable(split.selection), input, { onProgress: (d, t) => d % 100 === 0 && log(`decoded ${d}/${t}`) });
      failures.push(...sel.failures);
      for (const f of sel.failures) log(`skipped ${f.path}: ${f.reason}`);
      const withFitted: OverlapMember[] = [];
      for (const m of members) withFitted.push({ metadata: m.metadata, fitted: await modelFittedHashes(m.stored, { modelsDir: req.modelsDir }) });
      for (const line of checkSelectionOverlap(withFitted, sel, req.select, req)) log(line);
      const probs = Array.from(predictArrays(model, sel.pixels, input.height, input.width, input.channels));
      // Each member's logit inside the ensemble graph (sub-models share the ensemble's weights: never dispose them).
      const memberScores = members.map((m, i) => {
        const one = tfl.model({ inputs: model.inputs, outputs: model.getLayer(logits[i]).output as tfl.SymbolicTensor });
        const memberProbs = Array.from(predictArrays(one, sel.pixels, input.height, input.width, input.channels), sigmoid);
        return { id: m.metadata.id, ...score(sel.labels, memberProbs) };
      });
      scores = { members: memberScores, ensemble: score(sel.labels, probs) };
      for (const m of memberScores) log(`selection ${m.id}: ${fmt(m)}`);
      log(`selection ensemble: ${fmt(scores.ensemble)} (${sel.labels.length} images: hold-out ${split.holdout} of train + val ${split.val})`);
      const op = chooseThreshold(sel.labels, probs, 0.9);
      threshold = op.threshold;
      const cap = req.maxPerClass ? `, train capped at ${req.maxPerClass} per class` : '';
      const where = `the selection set of ${req.select} (seeded ${Math.round(req.holdoutFraction * 100)}% hold-out of train + val/${cap})`;
      thresholdChosenBy = `Youden's J with sensitivity ≥ 0.90 on ${where} (expected sensitivity ${op.sensitivity.toFixed(3)}, specificity ${op.specificity.toFixed(3)})`;
      metrics = { selection: summarise(`selection: ${where}`, sel.labels, probs, threshold) };
    }
    const now = new Date();
    const combination = `σ(mean of the members' logits); each member sees the ensemble input brought to its own size (average pooling) and channels (${input.toneByChannel ? `the grey channel of its own tone: ${input.toneByChannel.join(', ')}` : 'ITU-R 601 luma'}) in the graph; a member's calibration is folded into its logit`;
    const metadata = {
      schemaVersion: 1 as const,
      id: req.id,
      name: req.name,
      version: now.toISOString().replace(/[-:]/g, '').replace(/\..*/, ''),
      created: now.toISOString(),
      architecture: `ensemble(mean logit): ${members.map((m) => `${m.metadata.id} [${m.metadata.architecture}]`).join(' + ')}`,
      input,
      classNames: CLASS_NAMES,
      positiveClass: 'PNEUMONIA',
      output: 'sigmoid' as const,
      threshold,
      thresholdChosenBy,
      metrics,
      ensemble: {
        combination,
        command: req.command,
        members: members.map(({ metadata: m }) => ({ id: m.id, name: m.name, version: m.version, architecture: m.architecture, weightsSha256: m.weightsSha256, input: m.input, calibrated: !!m.calibration })),
      },
      ...(storage !== 'float32' ? { weightStorage: { dtype: storage, maxAbsError: rounded.maxAbsError } } : {}),
      notes: scores ? `Selection scores of each member on the same images: ${scores.members.map((m) => `${m.id} ${fmt(m)}`).join('; ')}; ensemble ${fmt(scores.ensemble)}.` : undefined,
    };
    const dir = req.outDir ? path.resolve(req.outDir) : path.join(userModelsDir(req.modelsDir), req.id);
    const saved = await saveModel(model, metadata, dir, (full) => ({ 'MODEL_CARD.md': renderModelCard(full) }));
    return { metadata: saved, dir, scores, failures };
  } finally {
    built?.model.dispose();
    for (const m of members) m.model.dispose();
  }
}
