// The fit and selection data of a training run, from a dataset folder or a MedMNIST-style .npz, decoded
// to the model's input. The test split is never read: folders' test/ and test-dev/ are left out (and a
// training image with the same content as a test image is refused); an .npz's test_* arrays are ignored.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FileFailure, FormSignal, InputSpec, Tone } from '../../../src-shared/types.ts';
import { describeFormSignal, readFileForms, signalsOfForms } from '../dataset/form-signals.ts';
import { aspectBalance, aspectHeldFixedScore, type AspectBalance } from './balance-weights.ts';
import type { SelectionScore } from './fit.ts';
import { applyTone } from '../imaging/tone.ts';
import { scanDataset, type DatasetItem } from '../dataset/scan.ts';
import { stratifiedSplit } from '../dataset/split.ts';
import { loadImages } from './load-images.ts';
import { findLocked, readLockedTest } from '../release/locked-test.ts';
import { loadNpzTrainingData, type ExcludeSet } from './npz-data.ts';

/** Class names of every model we train, in output order (positive last). */
export const CLASS_NAMES = ['NORMAL', 'PNEUMONIA'];
const TEST_SPLITS = new Set(['test', 'test-dev']);

/** Decoded images with labels (0 NORMAL, 1 PNEUMONIA) and where each came from. */
export interface LabelledPixels {
  paths: string[];
  /** sha256 of each image's content (file bytes, or an .npz row's pixels), parallel to `paths`. */
  sha256: string[];
  labels: number[];
  pixels: Float32Array[];
}

/** What a training run fits and selects on. */
export interface TrainingData {
  input: InputSpec;
  fit: LabelledPixels;
  selection: LabelledPixels;
  /** Images per class of each part, for the model card. */
  counts: Record<string, Record<string, number>>;
  failures: FileFailure[];
  /** How the selection set was made, for the model's metadata. */
  selectionName: string;
  /** Extra facts for the model card (e.g. what was left out of an .npz). */
  notes: Record<string, unknown>;
  /** How well the fitted files' form alone predicts their label (folders only; an .npz has no file form). */
  formSignals?: FormSignal[];
  /** With `balance: 'aspect'`: per-image loss weights parallel to `fit`, and how they were made. */
  balance?: AspectBalance;
  /** With `balance: 'aspect'`: epochs are chosen by the selection AUC with the aspect ratio held fixed. */
  selectionScore?: SelectionScore;
}

/** What to load. `input` is the model's input for folders; an .npz brings its own size. */
export interface TrainingDataRequest {
  dataRoot: string;
  input: InputSpec;
  seed: number;
  holdoutFraction: number;
  maxPerClass?: number;
  excludeNear?: string[];
  /** For .npz data: data folders whose selection set (this run's seed and hold-out) is left out, nearest array per image. */
  excludeNearSelection?: string[];
  /** Reweight the fit images so the aspect ratio carries no label information (folders only; see balance-weights.ts). */
  balance?: 'aspect';
  log: (line: string) => void;
}

/** 0 for NORMAL, 1 for PNEUMONIA (folder names in any case); throws naming the file otherwise. */
export function labelOf(item: { path: string; label: string | null }): number {
  const i = CLASS_NAMES.findIndex((c) => c.toLowerCase() === String(item.label).toLowerCase());
  if (i < 0) throw new Error(`${item.path}: class folder "${item.label}" is not one of ${CLASS_NAMES.join(', ')}; rename the folder or move the file`);
  return i;
}

/** `max` items of each label (all of a label that has fewer), a seeded subset, in input order. */
export function capPerClass<T extends { label: string | null }>(items: T[], max: number, seed: number): T[] {
  const byClass = new Map<string, T[]>();
  for (const it of items) {
    const list = byClass.get(String(it.label));
    if (list) list.push(it);
    else byClass.set(String(it.label), [it]);
  }
  const kept = new Set<T>();
  for (const list of byClass.values()) {
    const picked = list.length <= max ? list : stratifiedSplit(list, max / list.length, seed).holdout.slice(0, max);
    for (const it of picked) kept.add(it);
  }
  return items.filter((it) => kept.has(it));
}

function countByClass(labels: readonly number[]): Record<string, number> {
  return Object.fromEntries(CLASS_NAMES.map((c, i) => [c, labels.filter((l) => l === i).length]));
}

function capPixels(part: LabelledPixels, max: number | undefined, seed: number): LabelledPixels {
  if (!max) return part;
  const items = part.paths.map((p, i) => ({ path: p, label: String(part.labels[i]), i }));
  const kept = capPerClass(items, max, seed).map((it) => it.i).sort((a, b) => a - b);
  return { paths: kept.map((i) => part.paths[i]), sha256: kept.map((i) => part.sha256[i]), labels: kept.map((i) => part.labels[i]), pixels: kept.map((i) => part.pixels[i]) };
}

async function fromNpz(req: TrainingDataRequest): Promise<TrainingData> {
  const excludeNear = (req.excludeNear ?? []).map((f) => path.resolve(f));
  const locked = await readLockedTest();
  if (locked && !excludeNear.includes(locked.folder)) {
    if (existsSync(locked.folder)) {
      excludeNear.push(locked.folder);
      req.log(`the locked test set's folder ${locked.folder} is excluded too`);
    } else req.log(`warning: the locked test set's folder ${locked.folder} is gone, so its images cannot be kept out of this .npz`);
  }
  const sets: ExcludeSet[] = [];
  for (const folder of (req.excludeNearSelection ?? []).map((f) => path.resolve(f))) {
    const { selection } = await folderSplit(folder, { seed: req.seed, holdoutFraction: req.holdoutFraction });
    sets.push({ folder, part: 'selection', seed: req.seed, holdout: req.holdoutFraction, paths: selection.map((it) => it.path) });
  }
  if (!excludeNear.length && !sets.length) req.log('note: no --exclude-near folder given, so nothing keeps images you evaluate on elsewhere out of this .npz');
  const d = await loadNpzTrainingData(req.dataRoot, { excludeNear: [...excludeNear, ...sets], log: req.log });
  const tone = req.input.tone;
  const eq = (p: LabelledPixels) => (tone ? toneArrays(p, tone) : p);
  const fit = eq(capPixels(d.fit, req.maxPerClass, req.seed));
  return {
    input: tone ? { ...d.input, tone } : d.input,
    fit,
    selection: eq(d.selection),
    counts: { 'fit (train_* arrays)': countByClass(fit.labels), 'selection (val_* arrays)': countByClass(d.selection.labels) },
    failures: d.failures,
    selectionName: 'the val_* arrays of the .npz',
    notes: { excludedNear: d.excluded },
  };
}

/** An .npz part with every image tone-normalised (its arrays hold 8-bit levels / 255), as resizeToSpec does for files. */
function toneArrays(part: LabelledPixels, tone: Tone): LabelledPixels {
  const pixels = part.pixels.map((px) => Float32Array.from(applyTone(Uint8Array.from(px, (v) => Math.round(v * 255)), tone), (v) => v / 255));
  return { ...part, pixels };
}

/** Throws, naming the folder, when `dir` is itself a test split (named test or test-dev). */
export function assertNotTestFolder(dir: string): void {
  if (TEST_SPLITS.has(path.basename(path.resolve(dir)).toLowerCase())) {
    throw new Error(`${dir}: this is a test folder; train and select on training data (a folder with train/ and val/), never on test data`);
  }
}

/**
 * The labelled items of a dataset folder split for training: fit = train minus a seeded stratified
 * hold-out; selection = that hold-out + val/. Test splits are left out, and refused by content, as are
 * a folder named test/test-dev itself and images of the locked test set (cxr lock-test).
 */
export async function folderSplit(dataRoot: string, opts: { seed: number; holdoutFraction: number; maxPerClass?: number }): Promise<{ fit: DatasetItem[]; selection: DatasetItem[]; holdout: number; val: number }> {
  assertNotTestFolder(dataRoot);
  const scan = await scanDataset(dataRoot, { hash: true });
  const usable = scan.items.filter((it) => it.label != null && !TEST_SPLITS.has(String(it.split).toLowerCase()));
  let trainItems = usable.filter((it) => it.split == null || it.split.toLowerCase() === 'train');
  const valItems = usable.filter((it) => it.split != null && ['val', 'validation'].includes(it.split.toLowerCase()));
  if (trainItems.length === 0) throw new Error(`${dataRoot}: no labelled training images found (expected train/NORMAL, train/PNEUMONIA or NORMAL/, PNEUMONIA/)`);
  if (opts.maxPerClass) trainItems = capPerClass(trainItems, opts.maxPerClass, opts.seed);
  const split = stratifiedSplit(trainItems, opts.holdoutFraction, opts.seed);
  const selection = [...split.holdout, ...valItems];
  const testHashes = new Set(scan.items.filter((it) => TEST_SPLITS.has(String(it.split).toLowerCase())).map((it) => it.sha256));
  const leaked = [...split.train, ...selection].filter((it) => it.sha256 && testHashes.has(it.sha256));
  if (leaked.length) throw new Error(`${leaked[0].path}: this image is also in the test split (same content); remove it from training data`);
  const locked = findLocked(await readLockedTest(), [...split.train, ...selection]);
  if (locked) throw new Error(`${locked.path}: this image is in the locked test set (cxr lock-test; same content); remove it from the training data`);
  return { fit: split.train, selection, holdout: split.holdout.length, val: valItems.length };
}

/** Items as loadImages takes them (label 0 NORMAL / 1 PNEUMONIA). */
export function toLoadable(items: readonly DatasetItem[]): Array<{ path: string; label: number }> {
  return items.map((it) => ({ path: it.path, label: labelOf(it) }));
}

async function fromFolder(req: TrainingDataRequest): Promise<TrainingData> {
  req.log(`scanning ${req.dataRoot} …`);
  const split = await folderSplit(req.dataRoot, req);
  req.log(`training on ${split.fit.length} images, selecting on ${split.selection.length} (hold-out ${split.holdout} + val ${split.val})`);
  const fitItems = toLoadable(split.fit);
  const selItems = toLoadable(split.selection);
  const fit = await loadImages(fitItems, req.input, { onProgress: (d, t) => d % 200 === 0 && req.log(`decoded ${d}/${t}`) });
  const sel = await loadImages(selItems, req.input);
  const forms = await readFileForms(split.fit);
  const signals = signalsOfForms(forms);
  for (const s of signals?.filter((x) => x.flagged) ?? []) req.log(`warning: in the training images, ${describeFormSignal(s, req.input)}`);
  const balance = req.balance ? aspectBalance(forms, fit, req.log) : undefined;
  const selectionScore = req.balance ? aspectHeldFixedScore(await readFileForms(split.selection), sel, req.log) : undefined;
  return {
    input: req.input,
    fit,
    selection: sel,
    counts: { 'fit (train minus hold-out)': countByClass(fitItems.map((x) => x.label)), 'selection (hold-out of train + val)': countByClass(selItems.map((x) => x.label)) },
    failures: [...fit.failures, ...sel.failures],
    selectionName: `the selection set (seeded ${Math.round(req.holdoutFraction * 100)}% hold-out of train + val/)`,
    notes: {},
    ...(signals ? { formSignals: signals } : {}),
    ...(balance ? { balance } : {}),
    ...(selectionScore ? { selectionScore } : {}),
  };
}


/** Loads a run's data: an `.npz` file (see npz-data.ts) or a dataset folder (seeded hold-out of train + val/). */
export function loadTrainingData(req: TrainingDataRequest): Promise<TrainingData> {
  if (req.dataRoot.toLowerCase().endsWith('.npz')) {
    if (req.balance) throw new Error(`${req.dataRoot}: balancing the aspect ratio needs a dataset folder of image files; an .npz holds no file's aspect ratio`);
    return fromNpz(req);
  }
  if (req.excludeNear?.length) throw new Error('--exclude-near applies to .npz data only (dataset folders are checked against their test split by content)');
  return fromFolder(req);
}
