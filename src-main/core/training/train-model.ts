import type * as tfl from '@tensorflow/tfjs-layers';
import path from 'node:path';
import type { FileFailure, InputSpec, ModelMetadata } from '../../../src-shared/types.ts';
import { ARCHITECTURES, buildArchitecture, type ArchitectureName } from '../architectures/cnn.ts';
import { DEFAULT_AUGMENT, validateAugment, type AugmentRanges } from '../augment/affine.ts';
import { scanDataset, type DatasetItem } from '../dataset/scan.ts';
import { stratifiedSplit } from '../dataset/split.ts';
import { engineInfo } from '../engine/backend.ts';
import { defaultWorkers, effectiveWorkers } from './parallel/workers-option.ts';
import { chooseThreshold, summarise } from '../evaluation/metrics.ts';
import { renderModelCard } from '../models/model-card.ts';
import { userModelsDir } from '../models/paths.ts';
import { saveModel } from '../models/store.ts';
import { checkpointDir, readCheckpoint, removeCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { fitModel, predictArrays, type FitState, type TrainProgress } from './fit.ts';
import { loadImages } from './load-images.ts';
import { buildTransferModel, type BackboneRequest, type TransferModel } from '../transfer/backbone.ts';
import { fitTwoPhase, type PhaseOptions, type PhaseSummary } from '../transfer/two-phase.ts';

/** Class names of every model we train, in output order (positive last). */
export const CLASS_NAMES = ['NORMAL', 'PNEUMONIA'];
const TEST_SPLITS = new Set(['test', 'test-dev']);

/** What `cxr train` asks for. */
export interface TrainRequest {
  dataRoot: string;
  id: string;
  name: string;
  architecture: ArchitectureName;
  inputSize: number;
  /** How images reach the square input: `crop` (centre crop, default) removes the aspect ratio, which predicts the label in this data; `stretch` keeps it. */
  resize?: 'crop' | 'stretch' | 'letterbox';
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

/** 0 for NORMAL, 1 for PNEUMONIA (folder names in any case); throws naming the file otherwise. */
export function labelOf(item: { path: string; label: string | null }): number {
  const i = CLASS_NAMES.findIndex((c) => c.toLowerCase() === String(item.label).toLowerCase());
  if (i < 0) throw new Error(`${item.path}: class folder "${item.label}" is not one of ${CLASS_NAMES.join(', ')}; rename the folder or move the file`);
  return i;
}

/** At most `max` items per label, a seeded stratified subset. */
export function capPerClass<T extends { label: string | null }>(items: T[], max: number, seed: number): T[] {
  const { holdout } = stratifiedSplit(items, Math.min(1, (max * 2) / Math.max(1, items.length)), seed);
  const byClass = new Map<string, T[]>();
  for (const it of holdout) byClass.set(String(it.label), [...(byClass.get(String(it.label)) ?? []), it]);
  return [...byClass.values()].flatMap((v) => v.slice(0, max));
}

/**
 * Trains a CNN from scratch on `dataRoot` (split/class or class layout), selects the epoch and the
 * threshold on a seeded stratified hold-out of train plus `val/`, never on a test split, and saves
 * the model with metadata.json and MODEL_CARD.md.
 */
export async function trainAndSave(req: TrainRequest): Promise<{ metadata: ModelMetadata; dir: string; failures: FileFailure[] }> {
  const log = req.onLog ?? (() => {});
  if (req.transfer && req.resume) throw new Error('--resume is not available for transfer learning (--base); run the command again without --resume');
  if (!req.transfer && !(ARCHITECTURES as readonly string[]).includes(req.architecture)) throw new Error(`unknown architecture "${req.architecture}" (use ${ARCHITECTURES.join(', ')})`);
  const started = Date.now();
  log(`scanning ${req.dataRoot} …`);
  const scan = await scanDataset(req.dataRoot, { hash: true });
  const usable = scan.items.filter((it) => it.label != null && !TEST_SPLITS.has(String(it.split).toLowerCase()));
  let trainItems = usable.filter((it) => it.split == null || it.split.toLowerCase() === 'train');
  const valItems = usable.filter((it) => it.split != null && ['val', 'validation'].includes(it.split.toLowerCase()));
  if (trainItems.length === 0) throw new Error(`${req.dataRoot}: no labelled training images found (expected train/NORMAL, train/PNEUMONIA or NORMAL/, PNEUMONIA/)`);
  if (req.maxPerClass) trainItems = capPerClass(trainItems, req.maxPerClass, req.seed);
  const split = stratifiedSplit(trainItems, req.holdoutFraction, req.seed);
  const selection = [...split.holdout, ...valItems];
  const fitItems = split.train;
  const testHashes = new Set(scan.items.filter((it) => TEST_SPLITS.has(String(it.split).toLowerCase())).map((it) => it.sha256));
  const leaked = [...fitItems, ...selection].filter((it) => it.sha256 && testHashes.has(it.sha256));
  if (leaked.length) throw new Error(`${leaked[0].path}: this image is also in the test split (same content); remove it from training data`);
  const counts: Record<string, Record<string, number>> = {};
  const count = (name: string, items: DatasetItem[]) => {
    counts[name] = Object.fromEntries(CLASS_NAMES.map((c) => [c, items.filter((it) => labelOf(it) === CLASS_NAMES.indexOf(c)).length]));
  };
  count('fit (train minus hold-out)', fitItems);
  count('selection (hold-out of train + val)', selection);
  log(`training on ${fitItems.length} images, selecting on ${selection.length} (hold-out ${split.holdout.length} + val ${valItems.length})`);

  const tm: TransferModel | null = req.transfer ? await buildTransferModel({ ...req.transfer, resize: req.resize ?? 'crop', seed: req.seed, modelsDir: req.modelsDir }, log) : null;
  const input: InputSpec = tm?.input ?? { height: req.inputSize, width: req.inputSize, channels: 1, resize: req.resize ?? 'crop', scaling: 'scale255' };
  const toLoad = (items: DatasetItem[]) => items.map((it) => ({ path: it.path, label: labelOf(it) }));
  const fitData = await loadImages(toLoad(fitItems), input, { onProgress: (d, t) => d % 200 === 0 && log(`decoded ${d}/${t}`) });
  const selData = await loadImages(toLoad(selection), input);
  const failures = [...fitData.failures, ...selData.failures];
  for (const f of failures) log(`skipped ${f.path}: ${f.reason}`);
  const pos = fitData.labels.filter((l) => l === 1).length;
  const neg = fitData.labels.length - pos;
  if (pos === 0 || neg === 0) throw new Error(`${req.dataRoot}: training needs images of both classes (found ${neg} NORMAL, ${pos} PNEUMONIA)`);
  const cw = req.classWeights ?? 'auto';
  const classWeights: [number, number] = cw === 'auto' ? [fitData.labels.length / (2 * neg), fitData.labels.length / (2 * pos)] : cw === 'none' ? [1, 1] : cw;
  if (!classWeights.every((w) => Number.isFinite(w) && w > 0)) throw new Error(`class weights must be positive numbers (got ${classWeights.join(', ')})`);
  const augment = req.augment ? validateAugment(req.augmentRanges ?? DEFAULT_AUGMENT) : null;

  const dir = req.outDir ? path.resolve(req.outDir) : path.join(userModelsDir(req.modelsDir), req.id);
  const ckDir = checkpointDir(dir);
  const architecture = tm ? `transfer:${req.transfer!.base}@${tm.cutAt}` : req.architecture;
  const hyper: Record<string, unknown> = { architecture, inputSize: input.height, resize: input.resize, epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate, optimizer: 'adam', loss: 'class-weighted binary cross-entropy', classWeights, classWeightsRule: Array.isArray(cw) ? 'given' : cw, holdoutFraction: req.holdoutFraction, patience: req.patience, lrSchedule: 'halve after 3 epochs without improvement', augment, maxPerClass: req.maxPerClass ?? null };
  const workers = tm ? 1 : effectiveWorkers(req.workers ?? defaultWorkers(), engineInfo().backend);
  hyper.workers = workers;
  if (workers > 1) hyper.parallelism = 'data-parallel: batch split across the main thread and worker threads, gradients weighted by share class-weight sums; per-share dropout masks and BatchNorm batch statistics, BN moving statistics averaged over shares';
  if (tm) hyper.transfer = { backbone: tm.source, cutAt: tm.cutAt, head: 'GlobalAveragePooling2D → Dropout(0.2) → Dense(1, sigmoid)', batchNorm: 'base BN layers always in inference mode', ...req.transfer };
  const fingerprint = { ...hyper, epochs: undefined, dataRoot: req.dataRoot, seed: req.seed, fit: fitData.paths.length, selection: selData.paths.length };
  delete fingerprint.epochs;
  delete (fingerprint as Record<string, unknown>).workers; // the worker count may change on --resume
  delete (fingerprint as Record<string, unknown>).parallelism;
  let model: tfl.LayersModel;
  let resume: FitState | undefined;
  if (req.resume) {
    ({ model, state: resume } = await readCheckpoint(ckDir, fingerprint));
    log(`resuming after epoch ${resume.epoch} from ${ckDir}`);
  } else if (tm) model = tm.model;
  else model = buildArchitecture(req.architecture, { inputSize: req.inputSize, channels: 1, seed: req.seed });
  let phases: PhaseSummary[] | undefined;
  const fitOptions = {
    height: input.height, width: input.width, channels: input.channels, epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate,
    seed: req.seed, classWeights, augment, patience: req.patience, lrPatience: 3, onProgress: req.onProgress, signal: req.signal, resume, workers, onLog: log,
    onEpochEnd: tm ? undefined : (state: FitState) => writeCheckpoint(ckDir, model, state, fingerprint),
  };
  const fitDs = { pixels: fitData.pixels, labels: fitData.labels };
  const selDs = { pixels: selData.pixels, labels: selData.labels };
  const { history, bestEpoch } = tm
    ? await fitTwoPhase(model, tm.baseLayerNames, fitDs, selDs, fitOptions, req.transfer!, log).then((r) => ((phases = r.phases), r))
    : await fitModel(model, fitDs, selDs, fitOptions);
  if (phases) hyper.phases = phases;

  const probs = Array.from(predictArrays(model, selData.pixels, input.height, input.width, input.channels));
  const op = chooseThreshold(selData.labels, probs, 0.9);
  const selectionMetrics = summarise('selection (hold-out of train + val)', selData.labels, probs, op.threshold);
  log(`best epoch ${bestEpoch}; selection AUC ${selectionMetrics.auc.value.toFixed(3)}; threshold ${op.threshold.toFixed(3)} (sens ${op.sensitivity.toFixed(3)}, spec ${op.specificity.toFixed(3)})`);
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
    thresholdChosenBy: `Youden's J with sensitivity ≥ 0.90 on the selection set (seeded ${Math.round(req.holdoutFraction * 100)}% hold-out of train + val/; expected sensitivity ${op.sensitivity.toFixed(3)}, specificity ${op.specificity.toFixed(3)})`,
    training: { command: req.command, dataRoot: req.dataRoot, counts, seed: req.seed, epochs: history.length, bestEpoch, backend: engineInfo().backend, durationSeconds: (Date.now() - started) / 1000, hyperparameters: hyper, history: history.map((h) => ({ ...h })) },
    metrics: { selection: selectionMetrics },
  };
  const saved = await saveModel(model, meta, dir, (full) => ({ 'MODEL_CARD.md': renderModelCard(full) }));
  model.dispose();
  await removeCheckpoint(ckDir);
  return { metadata: saved, dir, failures };
}
