// NumPy .npz archives (a zip of .npy files, stored or deflated), e.g. MedMNIST's PneumoniaMNIST.
import { promises as fsp } from 'node:fs';
import { unzipSync } from 'fflate';
import { parseNpy, type NpyArray } from '../interchange/npy.ts';

/**
 * Reads every array of an .npz file, keyed by name without `.npy`. Errors name the file and say
 * what is wrong (missing, not a zip, a member that is not a .npy array).
 */
export async function readNpz(file: string): Promise<Record<string, NpyArray>> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read the .npz file (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
  }
  return parseNpz(bytes, file);
}

/** Parses .npz bytes; `label` names the source in errors. */
export function parseNpz(bytes: Uint8Array, label = '(npz)'): Record<string, NpyArray> {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (e) {
    throw new Error(`${label}: not a NumPy .npz archive (${(e as Error).message})`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [name, data] of Object.entries(members)) {
    if (!name.endsWith('.npy')) continue;
    out[name.slice(0, -4)] = parseNpy(data, `${label}:${name}`);
  }
  if (Object.keys(out).length === 0) throw new Error(`${label}: the archive holds no .npy arrays`);
  return out;
}
