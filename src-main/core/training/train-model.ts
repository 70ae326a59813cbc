import type * as tfl from '@tensorflow/tfjs-layers';
import path from 'node:path';
import type { FileFailure, InputSpec, ModelMetadata, SourceForm, Tone } from '../../../src-shared/types.ts';
import { ARCHITECTURES, buildArchitecture, type ArchitectureName, type CnnOptions } from '../architectures/cnn.ts';
import { DEFAULT_AUGMENT, validateAugment, type AugmentRanges } from '../augment/affine.ts';
import { engineInfo } from '../engine/backend.ts';
import { defaultWorkers, effectiveWorkers } from './parallel/workers-option.ts';
import { chooseThreshold, summarise } from '../evaluation/metrics.ts';
import { renderModelCard } from '../models/model-card.ts';
import { userModelsDir } from '../models/paths.ts';
import { fittedPaths, modelFittedHashes, splitFlags } from '../models/fitted-images.ts';
import { saveModel, type StoredModel } from '../models/store.ts';
import { checkpointDir, readCheckpoint, removeCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { autoClassWeights } from './balance-weights.ts';
import { fitModel, predictArrays, type FitState, type TrainProgress } from './fit.ts';
import { CLASS_NAMES, loadTrainingData } from './training-data.ts';
import { DATA_MANIFEST_FILE, dataManifest } from './data-manifest.ts';
import { buildTransferModel, type BackboneRequest, type TransferModel } from '../transfer/backbone.ts';
import { fitTwoPhase, type PhaseOptions, type PhaseSummary } from '../transfer/two-phase.ts';

/** What `cxr train` asks for. */
export interface TrainRequest {
  dataRoot: string;
  id: string;
  name: string;
  architecture: ArchitectureName;
  /** Square input size (default 128 from scratch, 224 with `transfer`; an .npz brings its own). */
  inputSize?: number;
  /** Architecture options beyond the named defaults (filters, dropout, L2, dense units). */
  architectureOptions?: Pick<Partial<CnnOptions>, 'filters' | 'dropout' | 'l2' | 'denseUnits'>;
  /** For .npz data: leave out the array images nearest to every image of these folders (see npz-data.ts). */
  excludeNear?: string[];
  /** For .npz data: leave out the array images nearest to the selection set of these data folders (this run's seed and hold-out). */
  excludeNearSelection?: string[];
  /** How images reach the square input: `crop` (centre square, default) hides most of the aspect ratio, which predicts the label in this data (see dataset/form-signals.ts); `stretch` and `letterbox` keep it visible. */
  resize?: 'crop' | 'stretch' | 'letterbox';
  /** Reweight the fit images so their aspect ratio carries no label information (see balance-weights.ts); folders only. */
  balanceAspect?: boolean;
  /** Bring large images to the form of the training images first (see InputSpec.sourceForm); recorded in the model. */
  sourceForm?: SourceForm;
  /** Tone-normalise each image after resizing (see InputSpec.tone); recorded in the model. */
  tone?: Tone;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  holdoutFraction: number;
  patience: number;
  augment: boolean;
  /** Augmentation ranges when `augment` is on (default DEFAULT_AUGMENT). */
  augmentRanges?: AugmentRanges;
  /** Loss weight per class: 'auto' (inverse frequency, the default), 'none' (1, 1), or [w0, w1]. */
  classWeights?: 'auto' | 'none' | [number, number];
  /** Continue from `<model dir>.checkpoint/` (written after every epoch) instead of starting over. */
  resume?: boolean;
  /** Cores for data-parallel training on wasm/cpu (main thread + worker threads; default: every core, at most 4; not with `transfer`). */
  workers?: number;
  /** Use at most this many training images per class (seeded), for quick runs and tests. */
  maxPerClass?: number;
  /** Transfer learning from a pretrained backbone (`--base`); `architecture` and `inputSize` are then ignored unless given. */
  transfer?: Omit<BackboneRequest, 'resize' | 'seed' | 'modelsDir'> & PhaseOptions;
  outDir?: string;
  modelsDir?: string;
  command: string;
  onProgress?: (p: TrainProgress) => void;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Trains a CNN from scratch on `dataRoot` (split/class or class layout), selects the epoch and the
 * threshold on a seeded stratified hold-out of train plus `val/`, never on a test split, and saves
 * the model with metadata.json and MODEL_CARD.md.
 */
export async function trainAndSave(req: TrainRequest): Promise<{ metadata: ModelMetadata; dir: string; failures: FileFailure[] }> {
  const log = req.onLog ?? (() => {});
  if (!req.transfer && !(ARCHITECTURES as readonly string[]).includes(req.architecture)) throw new Error(`unknown architecture "${req.architecture}" (use ${ARCHITECTURES.join(', ')})`);
  const started = Date.now();
  const isNpz = req.dataRoot.toLowerCase().endsWith('.npz');
  if (isNpz && req.transfer) throw new Error(`${req.dataRoot}: transfer learning (--base) needs a dataset folder of images, not an .npz`);
  const tm: TransferModel | null = req.transfer ? await buildTransferModel({ ...req.transfer, resize: req.resize ?? 'crop', seed: req.seed, modelsDir: req.modelsDir }, log) : null;
  const data = await loadTrainingData({
    dataRoot: req.dataRoot, seed: req.seed, holdoutFraction: req.holdoutFraction, maxPerClass: req.maxPerClass, excludeNear: req.excludeNear, excludeNearSelection: req.excludeNearSelection, log, ...(req.balanceAspect ? { balance: 'aspect' as const } : {}),
    input: { ...(tm?.input ?? { height: req.inputSize ?? 128, width: req.inputSize ?? 128, channels: 1, resize: req.resize ?? 'crop', scaling: 'scale255' }), ...(req.sourceForm ? { sourceForm: req.sourceForm } : {}), ...(req.tone ? { tone: req.tone } : {}) },
  });
  // An .npz sets its own size; the recorded input keeps the source form asked for either way.
  const input: InputSpec = req.sourceForm ? { ...data.input, sourceForm: req.sourceForm } : data.input;
  if (isNpz && req.inputSize && req.inputSize !== input.height) throw new Error(`${req.dataRoot} holds ${input.width}×${input.height} images; leave out --input-size or give ${input.height}`);
  const { counts, failures } = data;
  const fitData = data.fit;
  const selData = data.selection;
  for (const f of failures) log(`skipped ${f.path}: ${f.reason}`);
  if (tm?.stored) await assertBaseNotFittedOnSelection(tm.stored, selData, req, log);
  const pos = fitData.labels.filter((l) => l === 1).length;
  const neg = fitData.labels.length - pos;
  if (pos === 0 || neg === 0) throw new Error(`${req.dataRoot}: training needs images of both classes (found ${neg} NORMAL, ${pos} PNEUMONIA)`);
  const cw = req.classWeights ?? 'auto';
  const classWeights: [number, number] = cw === 'auto' ? autoClassWeights(fitData.labels, !!data.balance) : cw === 'none' ? [1, 1] : cw;
  if (!classWeights.every((w) => Number.isFinite(w) && w > 0)) throw new Error(`class weights must be positive numbers (got ${classWeights.join(', ')})`);
  const augment = req.augment ? validateAugment(req.augmentRanges ?? DEFAULT_AUGMENT) : null;

  const dir = req.outDir ? path.resolve(req.outDir) : path.join(userModelsDir(req.modelsDir), req.id);
  const ckDir = checkpointDir(dir);
  const architecture = tm ? `transfer:${req.transfer!.base}@${tm.cutAt}` : req.architecture;
  const hyper: Record<string, unknown> = { architecture, inputSize: input.height, resize: input.resize, epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate, optimizer: 'adam', loss: 'class-weighted binary cross-entropy', classWeights, classWeightsRule: Array.isArray(cw) ? 'given' : cw, ...(data.balance ? { balance: data.balance.summary } : {}), ...(data.selectionScore ? { selectionScore: data.selectionScore.name } : {}), ...(isNpz ? { selection: 'the val_* arrays of the .npz' } : { holdoutFraction: req.holdoutFraction }), patience: req.patience, lrSchedule: 'halve after 3 epochs without improvement', augment, maxPerClass: req.maxPerClass ?? null, ...(req.architectureOptions && !tm ? { architectureOptions: req.architectureOptions } : {}) };
  const workers = effectiveWorkers(req.workers ?? defaultWorkers(), engineInfo().backend);
  hyper.workers = workers;
  if (workers > 1) {
    hyper.parallelism = tm
      ? 'data-parallel: batch split across the main thread and worker threads, gradients weighted by share class-weight sums (base BatchNorm in inference mode, so the shares add up to the whole batch\'s gradient; per-share dropout masks); frozen-base features extracted on every thread'
      : 'data-parallel: batch split across the main thread and worker threads, gradients weighted by share class-weight sums; per-share dropout masks and BatchNorm batch statistics, BN moving statistics averaged over shares';
  }
  if (tm) hyper.transfer = { backbone: tm.source, cutAt: tm.cutAt, head: 'GlobalAveragePooling2D → Dropout(0.2) → Dense(1, sigmoid)', batchNorm: 'base BN layers always in inference mode', ...req.transfer };
  const fingerprint = { ...hyper, epochs: undefined, dataRoot: req.dataRoot, seed: req.seed, fit: fitData.paths.length, selection: selData.paths.length };
  delete fingerprint.epochs;
  delete (fingerprint as Record<string, unknown>).workers; // the worker count may change on --resume
  delete (fingerprint as Record<string, unknown>).parallelism;
  let model: tfl.LayersModel;
  let resume: FitState | undefined;
  if (req.resume && !tm) {
    ({ model, state: resume } = await readCheckpoint(ckDir, fingerprint));
    log(`resuming after epoch ${resume.epoch} from ${ckDir}`);
  } else if (tm) model = tm.model;
  else model = buildArchitecture(req.architecture, { ...req.architectureOptions, inputSize: input.height, channels: input.channels, seed: req.seed });
  let phases: PhaseSummary[] | undefined;
  const fitOptions = {
    height: input.height, width: input.width, channels: input.channels, epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate,
    seed: req.seed, classWeights, augment, patience: req.patience, lrPatience: 3, onProgress: req.onProgress, signal: req.signal, resume, workers, onLog: log,
    ...(data.selectionScore ? { selectionScore: data.selectionScore } : {}),
    onEpochEnd: tm ? undefined : (state: FitState) => writeCheckpoint(ckDir, model, state, fingerprint),
  };
  const fitDs = { pixels: fitData.pixels, labels: fitData.labels, ...(data.balance ? { weights: data.balance.weights } : {}) };
  const selDs = { pixels: selData.pixels, labels: selData.labels };
  const { history, bestEpoch, workers: used } = tm
    ? await fitTwoPhase(model, tm.baseLayerNames, fitDs, selDs, fitOptions, req.transfer!, log, { dir: ckDir, fingerprint, resume: !!req.resume }).then((r) => ((phases = r.phases), r))
    : await fitModel(model, fitDs, selDs, fitOptions);
  if (phases) hyper.phases = phases;
  if (used < workers) {
    hyper.workers = used; // memory allowed fewer threads (fit.ts said so in the log)
    if (used === 1) delete hyper.parallelism;
  }

  const probs = Array.from(predictArrays(model, selData.pixels, input.height, input.width, input.channels));
  const op = chooseThreshold(selData.labels, probs, 0.9);
  const selectionMetrics = summarise(`selection: ${data.selectionName}`, selData.labels, probs, op.threshold);
  log(`best epoch ${bestEpoch}; selection AUC ${selectionMetrics.auc.value.toFixed(3)}; threshold ${op.threshold.toFixed(3)} (sens ${op.sensitivity.toFixed(3)}, spec ${op.specificity.toFixed(3)})`);
  const manifest = dataManifest({ fit: fitData, selection: selData }, CLASS_NAMES);
  const meta = {
    schemaVersion: 1 as const,
    id: req.id,
    name: req.name,
    version: new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, ''),
    created: new Date().toISOString(),
    architecture,
    input,
    classNames: CLASS_NAMES,
    positiveClass: 'PNEUMONIA',
    output: 'sigmoid' as const,
    threshold: op.threshold,
    thresholdChosenBy: `Youden's J with sensitivity ≥ 0.90 on ${data.selectionName} (expected sensitivity ${op.sensitivity.toFixed(3)}, specificity ${op.specificity.toFixed(3)})`,
    training: { command: req.command, dataRoot: req.dataRoot, counts, seed: req.seed, epochs: history.length, bestEpoch, backend: engineInfo().backend, durationSeconds: (Date.now() - started) / 1000, hyperparameters: { ...hyper, ...data.notes }, history: history.map((h) => ({ ...h })), data: manifest.summary, ...(data.formSignals ? { formSignals: data.formSignals } : {}) },
    metrics: { selection: selectionMetrics },
  };
  const saved = await saveModel(model, meta, dir, (full) => ({ 'MODEL_CARD.md': renderModelCard(full), [DATA_MANIFEST_FILE]: manifest.csv }));
  model.dispose();
  await removeCheckpoint(ckDir);
  return { metadata: saved, dir, failures };
}

/**
 * A transfer run from a stored model must not select on images that model was fitted on: the base already
 * knows them, so the epoch choice and threshold would be optimistic. Throws naming the base, the count, an
 * example and the split flags to reuse.
 */
async function assertBaseNotFittedOnSelection(stored: StoredModel, sel: { sha256: string[]; paths: string[] }, req: TrainRequest, log: (l: string) => void): Promise<void> {
  const fitted = await modelFittedHashes(stored, { modelsDir: req.modelsDir });
  for (const u of fitted.unchecked) log(`note: training data of base ${u} unknown, so whether it was fitted on this run's selection images was not checked`);
  const hits = fittedPaths(fitted.hashes, sel);
  if (!hits.length) return;
  const flags = splitFlags(stored.metadata);
  throw new Error(`base model "${stored.metadata.id}" was trained on ${hits.length} of this run's ${sel.sha256.length} selection images (e.g. ${hits[0]}): `
    + `the epoch and threshold would be chosen on images the network already knows. Use the split it was trained with${flags ? ` (${flags})` : ''}, or data it never saw.`);
}
