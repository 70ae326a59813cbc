// The two-phase transfer recipe: (1) feature extraction with the base frozen and only the new head
// training; (2) optional fine-tuning with the base unfrozen from a named layer, at a lower learning rate.
// Frozen weights never change; BN layers of the base always use their moving statistics.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { repeatPerView } from '../training/balance-weights.ts';
import { fitModel, type ArrayDataset, type EpochRecord, type FitOptions, type FitState } from '../training/fit.ts';
import { effectiveWorkers } from '../training/parallel/workers-option.ts';
import { extractFeatureSets, splitAtHead } from './feature-cache.ts';
import { firstLayerOfLastBlocks, layersFrom, paramCounts, setTrainable, type ParamCounts } from './freeze.ts';
import {
  readTransferCheckpoint, setWeightsByLayer, weightsByLayer, writeFeaturesCheckpoint, writePhase1Checkpoint, writePhase2Checkpoint,
  type Phase1Record, type TransferResume,
} from './transfer-checkpoint.ts';

/** Where a transfer run checkpoints (`<model dir>.checkpoint/`), with the settings a resume must match. */
export interface TransferCheckpointing {
  dir: string;
  fingerprint: Record<string, unknown>;
  /** Continue from the checkpoint instead of starting over. */
  resume: boolean;
}

/** How to run the two phases (from `cxr train --freeze-base --then-unfreeze-from …`). */
export interface PhaseOptions {
  /** Phase 1 trains only the head (base frozen); false trains everything from the start. */
  freezeBase: boolean;
  /** Phase 2 unfreezes the base from this layer (inclusive) … */
  thenUnfreezeFrom?: string;
  /** … or the last N blocks of the base. */
  unfreezeLastBlocks?: number;
  fineTuneLr: number;
  fineTuneEpochs: number;
  /**
   * With the base frozen, run it once per cached view of each image (the plain image plus views-1 augmented
   * ones) and train the head on the cached features; 0 runs the frozen base on every batch instead (slow).
   */
  featureViews?: number;
}

/** What one phase did, recorded in the model's metadata. */
export interface PhaseSummary extends ParamCounts {
  phase: 'feature-extraction' | 'fine-tuning' | 'full-training';
  epochs: number;
  bestEpoch: number;
  bestSelectionAuc: number;
  learningRate: number;
  unfrozenFrom?: string;
  /** Phase 2 only: whether its best epoch beat phase 1 (otherwise phase 1's weights are kept). */
  kept?: boolean;
}

/** The selection score of a phase's best epoch (what chose it: the AUC, or FitOptions.selectionScore). */
function bestScore(history: readonly EpochRecord[], bestEpoch: number): number {
  const h = history.find((e) => e.epoch === bestEpoch);
  return h ? (h.valScore ?? h.valAuc) : -Infinity;
}

async function fitHeadOnCachedFeatures(
  model: tfl.LayersModel, train: ArrayDataset, val: ArrayDataset, o: FitOptions, views: number, log: (l: string) => void,
  ck: TransferCheckpointing | undefined, cached: { fit: ArrayDataset; selection: ArrayDataset } | undefined,
) {
  const split = splitAtHead(model);
  let fit: ArrayDataset;
  let sel: ArrayDataset;
  if (cached) {
    ({ fit, selection: sel } = cached);
    log(`using the ${fit.labels.length} training and ${sel.labels.length} selection feature vectors cached in the checkpoint`);
  } else {
    const eo = { height: o.height, width: o.width, channels: o.channels, seed: o.seed, signal: o.signal, workers: o.workers };
    const every = (d: number, t: number) => (d % 256 < 16 || d === t) && log(`features ${d}/${t}`);
    const t0 = Date.now();
    [fit, sel] = await extractFeatureSets(split.features, [{ ds: train, views, augment: o.augment, onProgress: every }, { ds: val, views: 1, augment: null }], eo);
    log(`cached ${fit.labels.length} training feature vectors (${o.augment ? views : 1} views per image) and ${sel.labels.length} selection ones in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    if (ck) await writeFeaturesCheckpoint(ck.dir, ck.fingerprint, fit, sel);
  }
  // Per-image weights follow each image into every one of its views (the features are laid out view by view).
  if (train.weights) fit = { ...fit, weights: repeatPerView(train.weights, fit.labels.length) };
  // The head is a single Dense layer: worker threads would cost more in copies than they save. The cores reported
  // are those feature extraction runs on (the image-level work of this phase).
  const r = await fitModel(split.head, fit, sel, { ...o, height: 1, width: 1, channels: split.featureSize, augment: null, workers: 1 });
  return { ...r, workers: effectiveWorkers(o.workers ?? 1, tf.getBackend()) };
}

function describe(r: TransferResume): string {
  if (r.stage === 'features') return 'the frozen base\'s features are cached; phase 1 runs again on them';
  if (r.stage === 'phase1') return 'phase 1 is done; fine-tuning starts';
  return `fine-tuning continues after its epoch ${r.state.epoch}`;
}

/** Trains `model` in one or two phases; history epochs are numbered across phases and carry `phase` (1 or 2). */
export async function fitTwoPhase(
  model: tfl.LayersModel, baseLayerNames: string[], train: ArrayDataset, val: ArrayDataset, o: FitOptions, p: PhaseOptions, log: (l: string) => void,
  ck?: TransferCheckpointing,
): Promise<{ history: Array<EpochRecord & { phase: number }>; bestEpoch: number; phases: PhaseSummary[]; workers: number }> {
  const resumed = ck?.resume ? await readTransferCheckpoint(ck.dir, ck.fingerprint) : null;
  if (resumed) log(`resuming from ${ck!.dir}: ${describe(resumed)}`);
  setTrainable(model, baseLayerNames, !p.freezeBase);
  const c1 = paramCounts(model);
  const name1 = p.freezeBase ? 'feature-extraction' : 'full-training';
  log(`phase 1 (${p.freezeBase ? 'feature extraction, base frozen' : 'whole network'}): ${c1.trainable} trainable, ${c1.frozen} frozen parameters, lr ${o.learningRate}`);
  let r1: Phase1Record;
  let workers = 1; // cores the image-level work used (feature extraction, or training on images)
  if (resumed && resumed.stage !== 'features') {
    setWeightsByLayer(model, resumed.phase1Weights);
    r1 = resumed.phase1;
  } else {
    const cached = resumed?.stage === 'features' ? resumed : undefined;
    const r = p.freezeBase && (p.featureViews ?? 0) > 0 ? await fitHeadOnCachedFeatures(model, train, val, o, p.featureViews!, log, ck, cached) : await fitModel(model, train, val, o);
    r1 = { history: r.history, bestEpoch: r.bestEpoch, bestSelectionAuc: bestScore(r.history, r.bestEpoch) };
    workers = r.workers;
  }
  const best1 = r1.bestSelectionAuc;
  const history = r1.history.map((h) => ({ ...h, phase: 1 }));
  const phases: PhaseSummary[] = [{ phase: name1, ...c1, epochs: r1.history.length, bestEpoch: r1.bestEpoch, bestSelectionAuc: best1, learningRate: o.learningRate }];
  const unfreeze = p.thenUnfreezeFrom ?? (p.unfreezeLastBlocks ? firstLayerOfLastBlocks(model, baseLayerNames, p.unfreezeLastBlocks) : undefined);
  if (!unfreeze) return { history, bestEpoch: r1.bestEpoch, phases, workers };

  const phase1Arrays = weightsByLayer(model);
  if (ck && resumed?.stage !== 'phase1' && resumed?.stage !== 'phase2') await writePhase1Checkpoint(ck.dir, ck.fingerprint, r1, phase1Arrays);
  setTrainable(model, layersFrom(baseLayerNames, unfreeze, 'fine-tuning'), true);
  const c2 = paramCounts(model);
  log(`phase 2 (fine-tuning from "${unfreeze}"): ${c2.trainable} trainable, ${c2.frozen} frozen parameters, lr ${p.fineTuneLr}`);
  let resume2: FitState | undefined;
  if (resumed?.stage === 'phase2') {
    setWeightsByLayer(model, resumed.weights);
    resume2 = resumed.state;
  }
  const r2 = await fitModel(model, train, val, {
    ...o, learningRate: p.fineTuneLr, epochs: p.fineTuneEpochs, resume: resume2,
    onEpochEnd: ck ? (state) => writePhase2Checkpoint(ck.dir, ck.fingerprint, model, state, r1, phase1Arrays) : undefined,
  });
  const best2 = bestScore(r2.history, r2.bestEpoch);
  const offset = history.length;
  history.push(...r2.history.map((h) => ({ ...h, epoch: h.epoch + offset, phase: 2 })));
  const kept = best2 >= best1;
  if (!kept) {
    setWeightsByLayer(model, phase1Arrays);
    log(`fine-tuning did not beat phase 1 (selection AUC ${best2.toFixed(3)} < ${best1.toFixed(3)}); keeping phase 1's weights`);
  }
  phases.push({ phase: 'fine-tuning', ...c2, epochs: r2.history.length, bestEpoch: r2.bestEpoch + offset, bestSelectionAuc: best2, learningRate: p.fineTuneLr, unfrozenFrom: unfreeze, kept });
  return { history, bestEpoch: kept ? r2.bestEpoch + offset : r1.bestEpoch, phases, workers: Math.max(workers, r2.workers) };
}
