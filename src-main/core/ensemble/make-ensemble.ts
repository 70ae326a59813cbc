// `cxr ensemble`: combines stored models into one new stored model, scores it and each member on the
// selection set of a dataset folder (never its test split), and writes metadata and a model card.
import * as tfl from '@tensorflow/tfjs-layers';
import path from 'node:path';
import type { FileFailure, ModelMetadata } from '../../../src-shared/types.ts';
import { auc, chooseThreshold, summarise } from '../evaluation/metrics.ts';
import { renderModelCard } from '../models/model-card.ts';
import { userModelsDir } from '../models/paths.ts';
import { loadStoredModel, resolveModel, saveModel } from '../models/store.ts';
import { predictArrays } from '../training/fit.ts';
import { loadImages } from '../training/load-images.ts';
import { CLASS_NAMES, folderSplit, toLoadable } from '../training/training-data.ts';
import { buildEnsemble, type EnsembleMember } from './build-ensemble.ts';

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
  seed: number;
  holdoutFraction: number;
  command: string;
  log?: (line: string) => void;
}

/** Selection AUC of each member and of the ensemble, in member order then the ensemble. */
export interface EnsembleScores {
  members: Array<{ id: string; auc: number }>;
  ensemble: number;
}

/** Builds, scores and saves the ensemble; returns its metadata, folder, per-member scores and skipped files. */
export async function makeEnsemble(req: EnsembleRequest): Promise<{ metadata: ModelMetadata; dir: string; scores: EnsembleScores | null; failures: FileFailure[] }> {
  const log = req.log ?? (() => {});
  const members: EnsembleMember[] = [];
  let built: Awaited<ReturnType<typeof buildEnsemble>> | undefined;
  try {
    for (const ref of req.members) {
      const stored = await resolveModel(ref, { modelsDir: req.modelsDir });
      members.push({ model: await loadStoredModel(stored), metadata: stored.metadata });
    }
    const ids = members.map((m) => m.metadata.id);
    if (new Set(ids).size !== ids.length) throw new Error(`the same model is named twice (${ids.join(', ')}); an ensemble combines different models`);
    built = await buildEnsemble(members);
    const { model, input, logits } = built;
    log(`ensemble of ${ids.join(' + ')}: input ${input.width}×${input.height}×${input.channels}, ${model.countParams().toLocaleString('en-US')} parameters`);
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
      const probs = Array.from(predictArrays(model, sel.pixels, input.height, input.width, input.channels));
      // Each member's logit inside the ensemble graph (sub-models share the ensemble's weights: never dispose them).
      const memberAucs = members.map((m, i) => {
        const one = tfl.model({ inputs: model.inputs, outputs: model.getLayer(logits[i]).output as tfl.SymbolicTensor });
        return { id: m.metadata.id, auc: auc(sel.labels, predictArrays(one, sel.pixels, input.height, input.width, input.channels)) };
      });
      scores = { members: memberAucs, ensemble: auc(sel.labels, probs) };
      for (const m of memberAucs) log(`selection AUC ${m.id}: ${m.auc.toFixed(4)}`);
      log(`selection AUC ensemble: ${scores.ensemble.toFixed(4)} (${sel.labels.length} images: hold-out ${split.holdout} of train + val ${split.val})`);
      const op = chooseThreshold(sel.labels, probs, 0.9);
      threshold = op.threshold;
      const where = `the selection set of ${req.select} (seeded ${Math.round(req.holdoutFraction * 100)}% hold-out of train + val/)`;
      thresholdChosenBy = `Youden's J with sensitivity ≥ 0.90 on ${where} (expected sensitivity ${op.sensitivity.toFixed(3)}, specificity ${op.specificity.toFixed(3)})`;
      metrics = { selection: summarise(`selection: ${where}`, sel.labels, probs, threshold) };
    }
    const now = new Date();
    const combination = 'σ(mean of the members\' logits); each member sees the ensemble input brought to its own size (average pooling) and channels (ITU-R 601 luma) in the graph; a member\'s calibration is folded into its logit';
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
      notes: scores ? `Selection AUC of each member on the same images: ${scores.members.map((m) => `${m.id} ${m.auc.toFixed(4)}`).join(', ')}; ensemble ${scores.ensemble.toFixed(4)}.` : undefined,
    };
    const dir = req.outDir ? path.resolve(req.outDir) : path.join(userModelsDir(req.modelsDir), req.id);
    const saved = await saveModel(model, metadata, dir, (full) => ({ 'MODEL_CARD.md': renderModelCard(full) }));
    return { metadata: saved, dir, scores, failures };
  } finally {
    built?.model.dispose();
    for (const m of members) m.model.dispose();
  }
}
