// One entry point: detect the format by content (magic bytes, not extension) and import.
import { unzipSync } from 'fflate';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ImportedModel } from './imported-model.ts';
import { importKeras3, importKerasH5 } from './keras-import.ts';
import { importTfjsFolder, importTfjsJson, importTfjsZip } from './tfjs-import.ts';

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** What a file holds, judged by its first bytes. */
export type SourceKind = 'hdf5' | 'zip' | 'json' | 'folder' | 'unknown';

/** Detects the kind of a model file or folder from its content. */
export async function detectSource(p: string): Promise<SourceKind> {
  let st;
  try {
    st = await fsp.stat(p);
  } catch {
    throw new Error(`${p}: not found; check the path to the model file or folder`);
  }
  if (st.isDirectory()) return 'folder';
  const fh = await fsp.open(p, 'r');
  const head = Buffer.alloc(8);
  try {
    await fh.read(head, 0, 8, 0);
  } finally {
    await fh.close();
  }
  if (head.equals(HDF5_MAGIC)) return 'hdf5';
  if (head.subarray(0, 4).equals(ZIP_MAGIC)) return 'zip';
  if (head.toString('utf8').trimStart().startsWith('{')) return 'json';
  return 'unknown';
}

function unzip(bytes: Uint8Array, file: string): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes);
  } catch (e) {
    throw new Error(`${file}: damaged or truncated zip (${(e as Error).message}); copy or export the file again`);
  }
}

/**
 * Imports a model from a Keras 2 `.h5`, a Keras 3 `.keras`, a TensorFlow.js layers folder, its
 * `model.json`, or a zip of it. The format is detected from the content, not the extension.
 */
export async function importModel(source: string): Promise<ImportedModel> {
  const p = path.resolve(source);
  const kind = await detectSource(p);
  switch (kind) {
    case 'folder':
      return importTfjsFolder(p);
    case 'hdf5':
      return importKerasH5(p);
    case 'json':
      return importTfjsFolder(path.dirname(p));
    case 'zip': {
      const entries = unzip(await fsp.readFile(p), p);
      if (entries['config.json'] && entries['model.weights.h5']) return importKeras3(entries, p);
      return importTfjsZip(entries, p);
    }
    default:
      throw new Error(`${p}: unrecognised model format (not HDF5, zip or model.json by content); import a Keras .h5/.keras file, a TensorFlow.js model folder, or a zip of one`);
  }
}

export { importTfjsJson };
