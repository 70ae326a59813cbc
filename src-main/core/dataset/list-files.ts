/**
 * Finding image files under the paths a user named. Never throws for bad paths: each one
 * becomes a FileFailure with a code and a reason the user can act on.
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileFailure } from '../../../src-shared/types.ts';

/** File extensions (lower case) picked up when walking folders. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png'];

/** True when the name ends in .jpg, .jpeg or .png (any case). */
export function hasImageExtension(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Result of listImageFiles. */
export interface ListedFiles {
  files: string[];
  failures: FileFailure[];
  /** Files the folder walk passed over (not .jpg/.jpeg/.png), counted by lower-case extension ('' = none; 'DICOMDIR' for a DICOM index); hidden files are not counted. */
  notRead: Record<string, number>;
}

const DICOM_EXTENSIONS = ['.dcm', '.dicom', 'DICOMDIR'];

/**
 * Says which files a folder walk passed over, e.g. "6 files that are not .jpg/.jpeg/.png (6 .dcm; DICOM is not
 * read by this version: export the studies as PNG or JPEG)", or null when there were none.
 */
export function describeNotRead(notRead: Record<string, number>): string | null {
  const entries = Object.entries(notRead).sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]));
  const total = entries.reduce((n, [, k]) => n + k, 0);
  if (!total) return null;
  const shown = entries.slice(0, 5).map(([ext, k]) => `${k} ${ext || 'without extension'}`);
  if (entries.length > 5) shown.push('…');
  const dicom = entries.some(([ext]) => DICOM_EXTENSIONS.includes(ext));
  const hint = dicom ? '; DICOM is not read by this version: export the studies as PNG or JPEG from the PACS or DICOM viewer' : '';
  return `${total} file${total === 1 ? '' : 's'} that ${total === 1 ? 'is' : 'are'} not ${IMAGE_EXTENSIONS.join('/')} (${shown.join(', ')}${hint})`;
}

/**
 * Lists image files under `paths`: folders are walked recursively (symlinks followed, each real
 * folder visited once, hidden entries skipped), files named explicitly are kept whatever their
 * extension. Missing paths (NOT_FOUND), unreadable folders (NOT_READABLE) and named folders
 * without images (EMPTY_FOLDER) become failures. Files come back sorted and de-duplicated.
 */
export async function listImageFiles(paths: string[]): Promise<ListedFiles> {
  const files = new Set<string>();
  const failures: FileFailure[] = [];
  const visited = new Set<string>();
  const notRead: Record<string, number> = {};
  for (const p of paths) {
    let info: Stats;
    try {
      info = await stat(p);
    } catch (e) {
      failures.push(fsFailure(e, p, 'path'));
      continue;
    }
    if (!info.isDirectory()) {
      files.add(p);
      continue;
    }
    const real = await realpath(p).catch(() => p);
    if (visited.has(real)) continue; // the same folder named twice, or inside one named before
    const before = files.size;
    const passedOver: Record<string, number> = {};
    await walk(p, { files, failures, visited, notRead: passedOver });
    for (const [ext, k] of Object.entries(passedOver)) notRead[ext] = (notRead[ext] ?? 0) + k;
    if (files.size === before && !failures.some((f) => f.path === p)) {
      const held = describeNotRead(passedOver);
      failures.push({
        path: p,
        code: 'EMPTY_FOLDER',
        reason: `${p}: the folder contains no ${IMAGE_EXTENSIONS.join('/')} images${held ? `; it holds ${held}` : ''}; check that this is the right folder`,
      });
    }
  }
  return { files: [...files].sort(compareStrings), failures, notRead };
}

interface WalkState {
  files: Set<string>;
  failures: FileFailure[];
  visited: Set<string>;
  notRead: Record<string, number>;
}

async function walk(dir: string, st: WalkState): Promise<void> {
  const { files, failures, visited } = st;
  let real: string;
  let entries: Dirent[];
  try {
    real = await realpath(dir);
    if (visited.has(real)) return; // symlink loop or a folder reached twice
    visited.add(real);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    failures.push(fsFailure(e, dir, 'folder'));
    return;
  }
  entries.sort((a, b) => compareStrings(a.name, b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const target = await stat(full);
        isDir = target.isDirectory();
        isFile = target.isFile();
      } catch (e) {
        failures.push(fsFailure(e, full, 'link'));
        continue;
      }
    }
    if (isDir) await walk(full, st);
    else if (isFile && hasImageExtension(entry.name)) files.add(full);
    else if (isFile) {
      // A PACS export's index is named DICOMDIR; the studies beside it often have no extension at all.
      const ext = entry.name.toUpperCase() === 'DICOMDIR' ? 'DICOMDIR' : path.extname(entry.name).toLowerCase();
      st.notRead[ext] = (st.notRead[ext] ?? 0) + 1;
    }
  }
}

function fsFailure(e: unknown, p: string, what: 'path' | 'folder' | 'link'): FileFailure {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const reason =
      what === 'link'
        ? `${p}: the link points to nothing (broken symlink); fix or remove it`
        : `${p}: no such file or folder; check the path`;
    return { path: p, code: 'NOT_FOUND', reason };
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return { path: p, code: 'NOT_READABLE', reason: `${p}: permission denied; check the ${what === 'folder' ? 'folder' : 'file'} permissions` };
  }
  if (code === 'ELOOP') {
    return { path: p, code: 'SYMLINK_LOOP', reason: `${p}: the symlinks loop back on themselves; fix the link` };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { path: p, code: code ?? 'ERROR', reason: `${p}: ${message}` };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
