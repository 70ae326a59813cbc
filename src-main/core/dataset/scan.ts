/**
 * Scanning a dataset folder: which layout it has, which images with which split and label,
 * how many per split and label, which files are byte-identical, and which could not be read.
 * Images are not decoded here (see imaging/decode.ts); this only lists, sizes and hashes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileFailure } from '../../../src-shared/types.ts';
import { toFileFailure } from '../imaging/image-error.ts';
import { hasImageExtension, listImageFiles } from './list-files.ts';

/** Folder names (lower case) recognised as splits. */
export const SPLIT_NAMES: readonly string[] = ['train', 'val', 'validation', 'test', 'test-dev'];

/** `split/class`: root/{train,val,…}/{LABEL}/…; `class`: root/{LABEL}/…; `flat`: unlabelled. */
export type DatasetLayout = 'split/class' | 'class' | 'flat';

/** One image file of a dataset. */
export interface DatasetItem {
  path: string;
  /** Split folder name in lower case, or null outside the split/class layout. */
  split: string | null;
  /** Class folder name as on disk, or null when unlabelled. */
  label: string | null;
  sha256?: string;
  bytes: number;
}

/** A set of byte-identical files. */
export interface DuplicateGroup {
  sha256: string;
  files: string[];
  /** Distinct splits the copies are in (sorted; null splits left out). */
  splits: string[];
  /** Distinct labels the copies carry (sorted; null labels left out): more than one is a conflict. */
  labels: string[];
}

/** What scanDataset found. */
export interface DatasetScan {
  root: string;
  layout: DatasetLayout;
  items: DatasetItem[];
  /** counts[split or 'all'][label or 'unlabelled']. */
  counts: Record<string, Record<string, number>>;
  /** Byte-identical files (needs hashing; empty when `hash: false`). */
  duplicates: DuplicateGroup[];
  /** Duplicates whose copies sit in different splits: evaluation data leaking into training. */
  leaks: DuplicateGroup[];
  /** Files and folders that could not be listed or read (includes empty class folders). */
  unreadable: FileFailure[];
  /** Top-level entries outside the detected layout, left out (e.g. `models/` beside the splits). */
  ignored: string[];
}

/** Options for scanDataset. */
export interface ScanOptions {
  /** Hash every file (sha256) to find duplicates; default true. */
  hash?: boolean;
  /** Called after each file is sized/hashed. */
  onProgress?: (done: number, total: number) => void;
  /** Files read at once; default 8. */
  concurrency?: number;
}

interface Candidate {
  path: string;
  split: string | null;
  label: string | null;
}

/**
 * Scans `root`, detecting the layout `split/class/*` (split folders train, val, validation,
 * test, test-dev in any case), `class/*`, or `flat`, then sizes and (by default) hashes every
 * image. Never throws for file-system problems: they are reported in `unreadable`.
 */
export async function scanDataset(root: string, opts: ScanOptions = {}): Promise<DatasetScan> {
  const hash = opts.hash ?? true;
  const unreadable: FileFailure[] = [];
  const ignored: string[] = [];
  const counts: Record<string, Record<string, number>> = { all: {} };
  const candidates: Candidate[] = [];

  const top = await listDir(root, unreadable);
  const dirs = top?.dirs ?? [];
  const splitDirs = dirs.filter((d) => SPLIT_NAMES.includes(d.toLowerCase()));
  let layout: DatasetLayout;

  if (splitDirs.length > 0) {
    layout = 'split/class';
    for (const d of dirs) if (!splitDirs.includes(d)) ignored.push(path.join(root, d));
    for (const f of top?.files ?? []) ignored.push(path.join(root, f));
    for (const d of splitDirs) {
      const split = d.toLowerCase();
      const splitPath = path.join(root, d);
      counts[split] ??= {};
      const inner = await listDir(splitPath, unreadable);
      if (!inner) continue;
      for (const f of inner.files) if (hasImageExtension(f)) candidates.push({ path: path.join(splitPath, f), split, label: null });
      for (const label of inner.dirs) {
        await collect(path.join(splitPath, label), split, label, candidates, unreadable);
        counts[split][label] ??= 0;
        counts.all[label] ??= 0;
      }
    }
  } else if (top && dirs.length > 0) {
    layout = 'class';
    for (const f of top.files) if (hasImageExtension(f)) candidates.push({ path: path.join(root, f), split: null, label: null });
    for (const label of dirs) {
      await collect(path.join(root, label), null, label, candidates, unreadable);
      counts.all[label] ??= 0;
    }
  } else {
    layout = 'flat';
    if (top) await collect(root, null, null, candidates, unreadable);
  }

  const items = await sizeAndHash(candidates, hash, opts, unreadable);
  for (const item of items) {
    const label = item.label ?? 'unlabelled';
    counts.all[label] = (counts.all[label] ?? 0) + 1;
    if (item.split !== null) {
      const perSplit = (counts[item.split] ??= {});
      perSplit[label] = (perSplit[label] ?? 0) + 1;
    }
  }
  const duplicates = findDuplicates(items);
  const leaks = duplicates.filter((g) => g.splits.length > 1);
  unreadable.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, layout, items, counts, duplicates, leaks, unreadable, ignored };
}

/** Groups items by sha256 (items without a hash are skipped); groups are sorted by first file. */
export function findDuplicates(items: readonly DatasetItem[]): DuplicateGroup[] {
  const bySha = new Map<string, DatasetItem[]>();
  for (const item of items) {
    if (!item.sha256) continue;
    const list = bySha.get(item.sha256) ?? [];
    list.push(item);
    bySha.set(item.sha256, list);
  }
  const groups: DuplicateGroup[] = [];
  for (const [sha256, list] of bySha) {
    if (list.length < 2) continue;
    const distinct = (values: Array<string | null>) => [...new Set(values.filter((v): v is string => v !== null))].sort();
    groups.push({
      sha256,
      files: list.map((i) => i.path).sort(),
      splits: distinct(list.map((i) => i.split)),
      labels: distinct(list.map((i) => i.label)),
    });
  }
  return groups.sort((a, b) => (a.files[0] < b.files[0] ? -1 : a.files[0] > b.files[0] ? 1 : 0));
}

async function collect(dir: string, split: string | null, label: string | null, out: Candidate[], failures: FileFailure[]): Promise<void> {
  const listed = await listImageFiles([dir]);
  failures.push(...listed.failures);
  for (const file of listed.files) out.push({ path: file, split, label });
}

/** Non-hidden sub-folder and file names of `dir` (symlinks followed), sorted; null if unreadable. */
async function listDir(dir: string, failures: FileFailure[]): Promise<{ dirs: string[]; files: string[] } | null> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const listed = await listImageFiles([dir]); // reuses its NOT_FOUND / NOT_READABLE wording
    failures.push(...(listed.failures.length > 0 ? listed.failures : [toFileFailure(e, dir)]));
    return null;
  }
  const dirs: string[] = [];
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) isDir = await stat(path.join(dir, entry.name)).then((s) => s.isDirectory(), () => false);
    (isDir ? dirs : files).push(entry.name);
  }
  return { dirs: dirs.sort(), files: files.sort() };
}

async function sizeAndHash(candidates: Candidate[], hash: boolean, opts: ScanOptions, failures: FileFailure[]): Promise<DatasetItem[]> {
  const results: Array<DatasetItem | null> = new Array(candidates.length).fill(null);
  const total = candidates.length;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 8));
  let nextIndex = 0;
  let done = 0;
  const worker = async () => {
    while (nextIndex < total) {
      const i = nextIndex++;
      const c = candidates[i];
      try {
        const info = await stat(c.path);
        const item: DatasetItem = { path: c.path, split: c.split, label: c.label, bytes: info.size };
        if (hash) item.sha256 = await sha256File(c.path);
        results[i] = item;
      } catch (e) {
        failures.push(toFileFailure(e, c.path));
      }
      done++;
      opts.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(total, 1)) }, worker));
  return results.filter((r): r is DatasetItem => r !== null);
}

/** sha256 (hex) of a file's bytes, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => h.update(chunk))
      .on('end', () => resolve(h.digest('hex')));
  });
}
