// Helpers shared by tests: temp folders, the real-data location, tiny models.
import { chmodSync, existsSync, mkdtempSync, promises as fsp, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelMetadata } from '../../src-shared/types.ts';
import { buildArchitecture } from './architectures/cnn.ts';
import { sharedDataDir } from './models/paths.ts';
import { saveModel } from './models/store.ts';

/** A fresh temp folder, removed by the returned cleanup (even where a test made parts of it read-only). */
export function tempDir(prefix = 'cxr-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      if (!existsSync(dir)) return;
      makeWritable(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Gives the owner write (and search) permission on a tree; what cannot be changed is left as it is.
function makeWritable(p: string): void {
  let st;
  try { st = statSync(p); } catch { return; }
  try { chmodSync(p, st.mode | (st.isDirectory() ? 0o700 : 0o600)); } catch { /* not ours */ }
  if (st.isDirectory()) for (const name of readdirSync(p)) makeWritable(path.join(p, name));
}

/** Copies a folder (e.g. from the read-only real data) so that the copy is writable by the tests. */
export async function copyFolder(from: string, to: string): Promise<void> {
  await fsp.cp(from, to, { recursive: true });
  makeWritable(to);
}

/** The real data folder, or a skip reason for node:test's `skip` option. */
export function realData(): { dir: string; skip: false | string } {
  const dir = sharedDataDir();
  return { dir, skip: existsSync(path.join(dir, 'test-dev')) ? false : `real data not found at ${dir} (../shared/data); skipping` };
}

/** Saves an untrained 64×64 seed-cnn with valid metadata into `dir`. */
export async function saveTinyModel(dir: string, id = 'tiny'): Promise<ModelMetadata> {
  const model = buildArchitecture('gap-cnn', { inputSize: 64, filters: [4, 8], denseUnits: 4, seed: 3 });
  const md = await saveModel(model, {
    schemaVersion: 1, id, name: 'tiny test model', version: '1', created: new Date(0).toISOString(), architecture: 'gap-cnn',
    input: { height: 64, width: 64, channels: 1, resize: 'stretch', scaling: 'scale255' }, classNames: ['NORMAL', 'PNEUMONIA'],
    positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5, thresholdChosenBy: 'fixed for tests',
  }, dir);
  model.dispose();
  return md;
}
