// Helpers shared by tests: temp folders, the real-data location, tiny models.
import { chmodSync, existsSync, mkdtempSync, promises as fsp, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
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

/** Writes a grey diagram (boxes, a line, a disc, labels): a grey picture that is not an X-ray. Returns `file`. */
export async function writeGreyDiagram(file: string): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><rect width="800" height="600" fill="white"/>
<rect x="50" y="50" width="200" height="120" fill="none" stroke="black" stroke-width="4"/><rect x="450" y="300" width="250" height="150" fill="#888"/>
<line x1="250" y1="110" x2="450" y2="370" stroke="black" stroke-width="4"/><circle cx="600" cy="120" r="80" fill="#444"/>
<text x="80" y="120" font-size="40">Input</text><text x="480" y="380" font-size="40">Output</text></svg>`;
  await sharp(Buffer.from(svg)).greyscale().toFile(file);
  return file;
}
