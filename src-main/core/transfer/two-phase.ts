// The two-phase transfer recipe: (1) feature extraction with the base frozen and only the new head
// training; (2) optional fine-tuning with the base unfrozen from a named layer, at a lower learning rate.
// Frozen weights never change; BN layers of the base always use their moving statistics.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { fitModel, type ArrayDataset, type EpochRecord, type FitOptions } from '../training/fit.ts';
import { extractFeatures, splitAtHead } from './feature-cache.ts';
import { firstLayerOfLastBlocks, layersFrom, paramCounts, setTrainable, type ParamCounts } from './freeze.ts';

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

async function fitHeadOnCachedFeatures(model: tfl.LayersModel, train: ArrayDataset, val: ArrayDataset, o: FitOptions, views: number, log: (l: string) => void) {
  const split = splitAtHead(model);
  const eo = { height: o.height, width: o.width, channels: o.channels, augment: o.augment, seed: o.seed, signal: o.signal };
  const every = (d: number, t: number) => (d % 256 < 16 || d === t) && log(`features ${d}/${t}`);
  const t0 = Date.now();
  const fit = await extractFeatures(split.features, train, { ...eo, views, onProgress: every });
  const sel = await extractFeatures(split.features, val, { ...eo, views: 1, augment: null });
  log(`cached ${fit.labels.length} training feature vectors (${o.augment ? views : 1} views per image) and ${sel.labels.length} selection ones in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return fitModel(split.head, fit, sel, { ...o, height: 1, width: 1, channels: split.featureSize, augment: null });
}

/** Trains `model` in one or two phases; history epochs are numbered across phases and carry `phase` (1 or 2). */
export async function fitTwoPhase(
  model: tfl.LayersModel, baseLayerNames: string[], train: ArrayDataset, val: ArrayDataset, o: FitOptions, p: PhaseOptions, log: (l: string) => void,
): Promise<{ history: Array<EpochRecord & { phase: number }>; bestEpoch: number; phases: PhaseSummary[] }> {
  setTrainable(model, baseLayerNames, !p.freezeBase);
  const c1 = paramCounts(model);
  const name1 = p.freezeBase ? 'feature-extraction' : 'full-training';
  log(`phase 1 (${p.freezeBase ? 'feature extraction, base frozen' : 'whole network'}): ${c1.trainable} trainable, ${c1.frozen} frozen parameters, lr ${o.learningRate}`);
  const r1 = p.freezeBase && (p.featureViews ?? 0) > 0 ? await fitHeadOnCachedFeatures(model, train, val, o, p.featureViews!, log) : await fitModel(model, train, val, o);
  const best1 = r1.history.find((h) => h.epoch === r1.bestEpoch)?.valAuc ?? -Infinity;
  const history = r1.history.map((h) => ({ ...h, phase: 1 }));
  const phases: PhaseSummary[] = [{ phase: name1, ...c1, epochs: r1.history.length, bestEpoch: r1.bestEpoch, bestSelectionAuc: best1, learningRate: o.learningRate }];
  const unfreeze = p.thenUnfreezeFrom ?? (p.unfreezeLastBlocks ? firstLayerOfLastBlocks(model, baseLayerNames, p.unfreezeLastBlocks) : undefined);
  if (!unfreeze) return { history, bestEpoch: r1.bestEpoch, phases };

  setTrainable(model, layersFrom(baseLayerNames, unfreeze, 'fine-tuning'), true);
  const c2 = paramCounts(model);
  log(`phase 2 (fine-tuning from "${unfreeze}"): ${c2.trainable} trainable, ${c2.frozen} frozen parameters, lr ${p.fineTuneLr}`);
  const phase1Weights = model.getWeights().map((t) => t.clone());
  try {
    const r2 = await fitModel(model, train, val, { ...o, learningRate: p.fineTuneLr, epochs: p.fineTuneEpochs, resume: undefined, onEpochEnd: undefined });
    const best2 = r2.history.find((h) => h.epoch === r2.bestEpoch)?.valAuc ?? -Infinity;
    const offset = history.length;
    history.push(...r2.history.map((h) => ({ ...h, epoch: h.epoch + offset, phase: 2 })));
    const kept = best2 >= best1;
    if (!kept) {
      model.setWeights(phase1Weights);
      log(`fine-tuning did not beat phase 1 (selection AUC ${best2.toFixed(3)} < ${best1.toFixed(3)}); keeping phase 1's weights`);
    }
    phases.push({ phase: 'fine-tuning', ...c2, epochs: r2.history.length, bestEpoch: r2.bestEpoch + offset, bestSelectionAuc: best2, learningRate: p.fineTuneLr, unfrozenFrom: unfreeze, kept });
    return { history, bestEpoch: kept ? r2.bestEpoch + offset : r1.bestEpoch, phases };
  } finally {
    tf.dispose(phase1Weights);
  }
}
