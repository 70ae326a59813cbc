// Training data from a MedMNIST-style .npz (PneumoniaMNIST): `train_images`/`train_labels` to fit,
// `val_images`/`val_labels` to select; `test_*` arrays are never read. Images the user will evaluate or
// select on elsewhere are kept out by `excludeNear`: for every image of those folders, the nearest
// array image (mean squared pixel difference at the array's size) is dropped, so a downscaled copy of
// a test or selection image cannot end up in training.
import { createHash } from 'node:crypto';
import type { FileFailure, InputSpec } from '../../../src-shared/types.ts';
import { readNpz } from '../dataset/npz.ts';
import { scanDataset } from '../dataset/scan.ts';
import { loadImages } from './load-images.ts';
import type { NpyArray } from '../interchange/npy.ts';

/** One part (fit or selection) of an .npz dataset, scaled to 0–1. */
export interface NpzPart {
  pixels: Float32Array[];
  /** sha256 of each row's uint8 pixels, as stored in the .npz. */
  sha256: string[];
  labels: number[];
  /** `file#train[i]`, for counts and error messages. */
  paths: string[];
}

/** What loadNpzTrainingData returns. */
export interface NpzTrainingData {
  input: InputSpec;
  fit: NpzPart;
  selection: NpzPart;
  /** Per excluded folder (or selection set): its images and the array images dropped because they were nearest to one. */
  excluded: Array<{ folder: string; images: number; dropped: number } & Partial<Omit<ExcludeSet, 'folder' | 'paths'>>>;
  failures: FileFailure[];
}

/** Explicit images to keep out: the selection set of a data folder, as cxr train and cxr ensemble --select make it. */
export interface ExcludeSet {
  folder: string;
  part: 'selection';
  seed: number;
  holdout: number;
  paths: string[];
}

function split(npz: Record<string, NpyArray>, part: 'train' | 'val', file: string): { images: NpyArray; labels: NpyArray } {
  const images = npz[`${part}_images`];
  const labels = npz[`${part}_labels`];
  if (!images || !labels) throw new Error(`${file}: no ${part}_images/${part}_labels arrays (a MedMNIST-style .npz has train_* and val_*); use a dataset folder instead`);
  const n = images.shape[0];
  if (images.shape.length !== 3 && !(images.shape.length === 4 && [1, 3].includes(images.shape[3]))) {
    throw new Error(`${file}: ${part}_images has shape [${images.shape}]; expected [N, H, W] or [N, H, W, 1|3]`);
  }
  if (labels.data.length !== n) throw new Error(`${file}: ${part}_labels has ${labels.data.length} labels for ${n} images`);
  const bad = labels.data.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) throw new Error(`${file}: ${part}_labels[${bad}] is ${labels.data[bad]}; only 0 (NORMAL) and 1 (PNEUMONIA) are supported`);
  return { images, labels };
}

function rows(images: NpyArray, size: number): Float32Array[] {
  return Array.from({ length: images.shape[0] }, (_, i) => images.data.subarray(i * size, (i + 1) * size).map((v) => v / 255));
}

function nearest(target: Float32Array, all: Float32Array[]): number {
  let best = Infinity;
  let at = -1;
  for (let i = 0; i < all.length; i++) {
    const r = all[i];
    let d = 0;
    for (let j = 0; j < r.length && d < best; j++) {
      const t = r[j] - target[j];
      d += t * t;
    }
    if (d < best) {
      best = d;
      at = i;
    }
  }
  return at;
}

/**
 * Loads `file` for training at its own image size (resize `crop`, pixels / 255), dropping the array
 * images nearest to each image under every `excludeNear` folder (all splits, labelled or not).
 */
export async function loadNpzTrainingData(file: string, opts: { excludeNear?: Array<string | ExcludeSet>; log?: (line: string) => void } = {}): Promise<NpzTrainingData> {
  const npz = await readNpz(file);
  const train = split(npz, 'train', file);
  const val = split(npz, 'val', file);
  const [, h, w, c = 1] = train.images.shape;
  if (val.images.shape[1] !== h || val.images.shape[2] !== w) throw new Error(`${file}: val_images are ${val.images.shape[2]}×${val.images.shape[1]}, train_images ${w}×${h}; both must have one size`);
  const input: InputSpec = { height: h, width: w, channels: c as 1 | 3, resize: 'crop', scaling: 'scale255' };
  const size = h * w * c;
  const all = [...rows(train.images, size), ...rows(val.images, size)];
  const labels = [...train.labels.data, ...val.labels.data];
  const nTrain = train.images.shape[0];
  const dropped = new Set<number>();
  const excluded: NpzTrainingData['excluded'] = [];
  const failures: FileFailure[] = [];
  for (const ex of opts.excludeNear ?? []) {
    const set = typeof ex === 'string' ? null : ex;
    const folder = set ? set.folder : (ex as string);
    const paths = set ? set.paths : (await scanDataset(folder)).items.map((it) => it.path);
    const loaded = await loadImages(paths.map((p) => ({ path: p, label: 0 })), input);
    failures.push(...loaded.failures);
    const before = dropped.size;
    for (const px of loaded.pixels) dropped.add(nearest(px, all));
    excluded.push({ folder, ...(set ? { part: set.part, seed: set.seed, holdout: set.holdout } : {}), images: loaded.pixels.length, dropped: dropped.size - before });
    const what = set ? `selection images of ${folder} (seed ${set.seed}, hold-out ${set.holdout})` : `images of ${folder}`;
    opts.log?.(`left out ${dropped.size - before} array images nearest to the ${loaded.pixels.length} ${what}`);
  }
  const part = (from: number, to: number, name: string): NpzPart => {
    const out: NpzPart = { pixels: [], sha256: [], labels: [], paths: [] };
    for (let i = from; i < to; i++) {
      if (dropped.has(i)) continue;
      out.pixels.push(all[i]);
      out.sha256.push(createHash('sha256').update(Uint8Array.from(all[i], (v) => Math.round(v * 255))).digest('hex'));
      out.labels.push(labels[i]);
      out.paths.push(`${file}#${name}[${i - from}]`);
    }
    return out;
  };
  return { input, fit: part(0, nTrain, 'train'), selection: part(nTrain, all.length, 'val'), excluded, failures };
}
