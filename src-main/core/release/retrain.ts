/**
 * `cxr retrain`: fine-tune a model on its old training data plus new labelled images, score old and
 * new on the locked test set, and promote the new version only if the release gate passes.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { DEFAULT_AUGMENT, type AugmentRanges } from '../augment/affine.ts';
import { describeFormSignal, readFileForms, signalsOfForms } from '../dataset/form-signals.ts';
import { scanDataset, type DatasetItem } from '../dataset/scan.ts';
import { engineInfo } from '../engine/backend.ts';
import { calibrate } from '../evaluation/calibrate.ts';
import { fitFamiliarity } from '../familiarity/fit-familiarity.ts';
import { auc, chooseThreshold, confusion, summarise } from '../evaluation/metrics.ts';
import { withOperatingPoint } from '../evaluation/set-operating-point.ts';
import { defaultHistoryPath, openHistoryDb, promoteModel, upsertModel } from '../history/index.ts';
import { modelFittedHashes } from '../models/fitted-images.ts';
import { renderModelCard } from '../models/model-card.ts';
import { userModelsDir } from '../models/paths.ts';
import { loadStoredModel, resolveModel, saveModel } from '../models/store.ts';
import { aspectBalance, aspectHeldFixedScore, autoClassWeights } from '../training/balance-weights.ts';
import { fitModel, predictArrays, type TrainProgress } from '../training/fit.ts';
import { keepBatchNormInInference } from '../training/batch-norm-mode.ts';
import { loadImages } from '../training/load-images.ts';
import { defaultWorkers, effectiveWorkers } from '../training/parallel/workers-option.ts';
import { CLASS_NAMES, assertNotTestFolder, capPerClass, labelOf } from '../training/training-data.ts';
import { DATA_MANIFEST_FILE, dataManifest } from '../training/data-manifest.ts';
import { gateDecision, type GateDecision, type GateScores } from './gate.ts';
import { findLocked, readLockedTest } from './locked-test.ts';
import { retrainSplit } from './retrain-split.ts';

const TRAINABLE = (it: DatasetItem) => it.label != null && (it.split == null || ['train', 'val', 'validation'].includes(it.split));

/** What `cxr retrain` asks for. */
export interface RetrainRequest {
  from: string;
  addFolder: string;
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  margin: number;
  holdoutFraction: number;
  augment: AugmentRanges | null;
  maxPerClass?: number;
  /** The old training data's folder, when metadata does not name it or it moved. */
  oldData?: string;
  /** Cores to train on (default: every core up to 4; see workers-option.ts). */
  workers?: number;
  /** Reweight the fit images so their aspect ratio carries no label information (as `cxr train --balance-aspect`). */
  balanceAspect?: boolean;
  modelsDir?: string;
  historyFile?: string;
  command: string;
  onLog?: (line: string) => void;
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
}

/** What happened. */
export interface RetrainOutcome {
  metadata: ModelMetadata;
  dir: string;
  activeDir: string | null;
  decision: GateDecision;
  old: GateScores;
  next: GateScores;
}

function scores(labels: number[], probs: number[], threshold: number): GateScores {
  const c = confusion(labels, probs, threshold);
  return { auc: auc(labels, probs), sensitivity: c.tp / (c.tp + c.fn), specificity: c.tn / (c.tn + c.fp) };
}

/** Fine-tunes, gates and saves; see the file comment. Throws naming the file when a locked image is in the training data. */
export async function retrainModel(req: RetrainRequest): Promise<RetrainOutcome> {
  const log = req.onLog ?? (() => {});
  const stored = await resolveModel(req.from, { modelsDir: req.modelsDir });
  const md = stored.metadata;
  const locked = await readLockedTest();
  if (!locked) throw new Error('no locked test set: run `cxr lock-test <labelled folder>` first; the release gate scores models on it');
  const items: DatasetItem[] = [];
  const oldRoot = req.oldData ? path.resolve(req.oldData) : md.training?.dataRoot;
  const oldFound = oldRoot != null && (await fsp.stat(oldRoot).then((s) => s.isDirectory(), () => false));
  if (req.oldData && !oldFound) {
    throw new Error(`${req.oldData}: not a folder; give --old-data the folder ${md.id} was trained on (split/class or class sub-folders)`);
  }
  for (const dir of [req.addFolder, oldRoot]) if (dir) assertNotTestFolder(dir);
  if (oldRoot && oldFound) {
    let old = (await scanDataset(oldRoot, { hash: true })).items.filter(TRAINABLE);
    if (req.maxPerClass) old = capPerClass(old, req.maxPerClass, req.seed);
    log(`old training data: ${old.length} images from ${oldRoot}`);
    items.push(...old);
  } else log(`old training data not found (${oldRoot ?? 'not recorded in metadata'}); fine-tuning on the new images only (--old-data <folder> adds it)`);
  const added = (await scanDataset(path.resolve(req.addFolder), { hash: true })).items.filter(TRAINABLE);
  if (!added.length) throw new Error(`${req.addFolder}: no labelled images (expected NORMAL/ and PNEUMONIA/ sub-folders)`);
  items.push(...added);
  const leak = findLocked(locked, items);
  if (leak) throw new Error(`${leak.path}: this image is in the locked test set (same content); remove it from the training data`);
  const fitted = await modelFittedHashes(stored, { modelsDir: req.modelsDir });
  for (const u of fitted.unchecked) log(`note: training data of ${u} unknown, so images it was fitted on may land in the selection set`);
  const split = retrainSplit(items, fitted.hashes, req.holdoutFraction, req.seed);
  if (split.keptInFit) log(`${split.keptInFit} images ${md.id} was already fitted on stay in fit; the selection set is drawn from the others`);
  const selLabels = new Set(split.selection.map(labelOf));
  if (selLabels.size < 2) {
    const unseen = items.length - split.keptInFit;
    throw new Error(`${req.addFolder}: the retrain's selection set (a ${Math.round(req.holdoutFraction * 100)}% hold-out of the ${unseen} images ${md.id} was not fitted on${split.keptInFit ? `; ${split.keptInFit} others it was fitted on are kept for fitting` : ''}) `
      + `has no ${selLabels.has(1) ? 'NORMAL' : selLabels.has(0) ? 'PNEUMONIA' : 'NORMAL or PNEUMONIA'} image: add more new labelled images of both classes, or raise --holdout (at most 0.5)`);
  }
  const toLoad = (xs: DatasetItem[]) => xs.map((it) => ({ path: it.path, label: labelOf(it) }));
  const fitData = await loadImages(toLoad(split.fit), md.input);
  const selData = await loadImages(toLoad(split.selection), md.input);
  const forms = await readFileForms(split.fit);
  const signals = signalsOfForms(forms);
  for (const f of signals?.filter((x) => x.flagged) ?? []) log(`warning: in the training images (old + new), ${describeFormSignal(f, md.input)}`);
  const pos = fitData.labels.filter((l) => l === 1).length;
  const neg = fitData.labels.length - pos;
  if (!pos || !neg) throw new Error(`${req.addFolder}: fine-tuning needs images of both classes (found ${neg} NORMAL, ${pos} PNEUMONIA)`);
  const balance = req.balanceAspect ? aspectBalance(forms, fitData, log) : undefined;
  const selectionScore = req.balanceAspect ? aspectHeldFixedScore(await readFileForms(split.selection), selData, log) : undefined;
  const classWeights = autoClassWeights(fitData.labels, !!balance);
  log(`fine-tuning ${md.id} v${md.version} on ${fitData.labels.length} images (${added.length} new), selecting on ${selData.labels.length}`);
  const { height, width, channels } = md.input;
  const model = await loadStoredModel(stored);
  // Fine-tuning: BatchNorm layers keep the moving statistics they were trained with (Keras' advice; small
  // fine-tuning batches would otherwise overwrite them), which also lets every core take a share of each batch.
  const batchNorms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.name);
  keepBatchNormInInference(model, batchNorms);
  const workers = effectiveWorkers(req.workers ?? defaultWorkers(), engineInfo().backend);
  const started = Date.now();
  const { history, bestEpoch, workers: used } = await fitModel(model, balance ? { ...fitData, weights: balance.weights } : fitData, selData, {
    height, width, channels, epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate, seed: req.seed, classWeights,
    augment: req.augment, patience: Math.max(2, req.epochs), lrPatience: 3, onProgress: req.onProgress, signal: req.signal, workers, onLog: log,
    ...(selectionScore ? { selectionScore } : {}),
  });
  const rawSel = Array.from(predictArrays(model, selData.pixels, height, width, channels));
  const op = md.operatingPoint;
  const rule = op ? (op.rule === 'youden' ? { kind: 'youden' as const } : { kind: op.rule, target: op.target ?? 0.9 }) : null;
  const drawnFrom = split.keptInFit ? `the old + new images ${md.id} was not fitted on` : 'old + new data';
  const selName = `the selection set of the retrain (seeded ${Math.round(req.holdoutFraction * 100)}% hold-out of ${drawnFrom})`;
  // A calibrated model stays calibrated: the same method is refitted on the retrain's selection set, then the threshold is chosen on it.
  const refit = rule ? withOperatingPoint(md, { rule, calibrate: md.calibration?.method, dataset: selName, labels: selData.labels, rawProbabilities: rawSel }) : null;
  const calibration = refit?.metadata.calibration;
  const sel = rawSel.map((p) => calibrate(calibration, p));
  const point = refit ? refit.point : chooseThreshold(selData.labels, sel, 0.9);
  const ruleText = rule ? `${op!.rule}${op!.target != null ? ` ${op!.target}` : ''}${calibration ? ` (${calibration.method}-calibrated)` : ''}` : "Youden's J with sensitivity ≥ 0.90";

  // A familiarity check is refitted at the same layer and margin: the centre and limit of the old weights would not fit the new.
  const familiarity = md.familiarity ? (await fitFamiliarity(model, md, {
    layer: md.familiarity.layer, margin: md.familiarity.limitFrom.margin, engine: 'tfjs',
    fit: split.fit.map((it) => it.path), fitDataset: 'the retrain\'s fit part (old + new minus the hold-out)',
    limitOn: split.selection.map((it) => it.path), limitDataset: selName,
  })).record : undefined;
  if (familiarity) log(`familiarity check refitted at layer ${familiarity.layer}: limit ${familiarity.limit.toFixed(3)} (${familiarity.limitFrom.margin} × ${familiarity.limitFrom.largest.toFixed(3)} on the selection set)`);

  const lockedItems = locked.files.map((f) => ({ path: f.path, label: labelOf({ path: f.path, label: f.label }) }));
  const lockedData = await loadImages(lockedItems, md.input);
  if (lockedData.failures.length) throw new Error(`${lockedData.failures[0].path}: locked test image unreadable (${lockedData.failures[0].reason}); restore it or lock the set again`);
  const oldModel = await loadStoredModel(stored);
  const oldProbs = Array.from(predictArrays(oldModel, lockedData.pixels, height, width, channels)).map((p) => calibrate(md.calibration, p));
  oldModel.dispose();
  const newProbs = Array.from(predictArrays(model, lockedData.pixels, height, width, channels)).map((p) => calibrate(calibration, p));
  const old = scores(lockedData.labels, oldProbs, md.threshold);
  const next = scores(lockedData.labels, newProbs, point.threshold);
  const decision = gateDecision(old, next, req.margin);
  log(decision.reason);

  const version = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const manifest = dataManifest({ fit: fitData, selection: selData }, CLASS_NAMES);
  const { calibration: _drop, operatingPoint: _op, weightsSha256: _w, parameters: _p, familiarity: _f, ...base } = md;
  const meta = {
    ...base, version, created: new Date().toISOString(), threshold: point.threshold, ...(familiarity ? { familiarity } : {}),
    ...(calibration ? { calibration } : {}), ...(refit?.metadata.operatingPoint ? { operatingPoint: refit.metadata.operatingPoint } : {}),
    thresholdChosenBy: `${ruleText} on ${selName}; expected sensitivity ${point.sensitivity.toFixed(3)}, specificity ${point.specificity.toFixed(3)}`,
    training: {
      command: req.command, dataRoot: oldRoot ?? path.resolve(req.addFolder), seed: req.seed, epochs: history.length, bestEpoch, backend: engineInfo().backend,
      durationSeconds: (Date.now() - started) / 1000, history: history.map((h) => ({ ...h })),
      data: manifest.summary, ...(signals ? { formSignals: signals } : {}),
      counts: { 'fit (old + new minus hold-out)': { NORMAL: neg, PNEUMONIA: pos }, 'new images added': { NORMAL: added.filter((i) => labelOf(i) === 0).length, PNEUMONIA: added.filter((i) => labelOf(i) === 1).length } },
      hyperparameters: { fineTunedFrom: `${md.id}@${md.version}`, addFolder: path.resolve(req.addFolder), epochs: req.epochs, learningRate: req.learningRate, batchSize: req.batchSize, classWeights, ...(balance ? { balance: balance.summary } : {}), ...(selectionScore ? { selectionScore: selectionScore.name } : {}), augment: req.augment ?? null, margin: req.margin, maxPerClass: req.maxPerClass ?? null, workers: used, ...(batchNorms.length ? { batchNorm: `${batchNorms.length} BatchNormalization layers kept in inference mode (moving statistics unchanged)` } : {}) },
    },
    metrics: { selection: summarise('selection (hold-out of old + new data)', selData.labels, sel, point.threshold), 'locked-test': summarise(`locked test set (${locked.folder})`, lockedData.labels, newProbs, point.threshold) },
    notes: `Fine-tuned from ${md.id} v${md.version}. Release gate: ${decision.reason}.`,
  };
  const root = userModelsDir(req.modelsDir);
  const dir = path.join(root, `${md.id}.versions`, version);
  const card = (full: ModelMetadata) => ({ 'MODEL_CARD.md': renderModelCard(full), [DATA_MANIFEST_FILE]: manifest.csv });
  const saved = await saveModel(model, meta, dir, card);
  let activeDir: string | null = null;
  if (decision.promote) {
    activeDir = path.join(root, md.id);
    if (stored.dir === activeDir) await fsp.cp(activeDir, path.join(root, `${md.id}.versions`, md.version), { recursive: true, force: false, errorOnExist: false });
    await saveModel(model, meta, activeDir, card);
  }
  model.dispose();
  const db = openHistoryDb(req.historyFile ?? defaultHistoryPath());
  try {
    upsertModel(db, md);
    upsertModel(db, saved);
    promoteModel(db, md.id, version, { status: decision.promote ? 'active' : 'candidate', reason: decision.reason });
  } finally {
    db.close();
  }
  return { metadata: saved, dir, activeDir, decision, old, next };
}
