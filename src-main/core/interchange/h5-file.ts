// Thin wrapper over h5wasm (the HDF5 C library compiled to WebAssembly): open, read, write, close.
import h5wasm from 'h5wasm/node';
import type { Dataset, Group, File as H5File } from 'h5wasm/node';
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type { Dataset, Group, H5File };

/** A float tensor read from a dataset. */
export interface H5Array {
  shape: number[];
  data: Float32Array;
}

let ready: Promise<unknown> | null = null;

/** Loads the HDF5 WebAssembly module once per process. */
export async function h5Ready(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready.then((m) => {
    // HDF5 errors become JS exceptions instead of diagnostics printed to stderr.
    (m as unknown as { activate_throwing_error_handler?: () => number }).activate_throwing_error_handler?.();
  });
  await ready;
  return h5wasm;
}

/**
 * Opens an HDF5 file for reading. `label` names the user's file in error messages (the path opened
 * may be a temporary copy, e.g. `model.weights.h5` unpacked from a `.keras` zip).
 */
export async function openH5(file: string, label = file): Promise<H5File> {
  const lib = await h5Ready();
  if (!existsSync(file)) throw new Error(`${label}: file not found; check the path`);
  let f: H5File | null = null;
  let why = 'the HDF5 library could not open it';
  try {
    f = new lib.File(file, 'r');
  } catch (e) {
    why = (/truncated file[^\n]*/.exec((e as Error).message)?.[0] ?? (e as Error).message.split('\n')[0]).trim();
  }
  if (!f || f.file_id < 0n) throw new Error(`${label}: not a readable HDF5 file, damaged or truncated (${why}); copy or re-export the model from Keras`);
  return f;
}

/** Writes `bytes` to a temporary file, opens it as HDF5 and removes the file again on `close()`. */
export async function openH5Bytes(bytes: Uint8Array, label: string): Promise<{ file: H5File; close: () => void }> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cxr-h5-'));
  const tmp = path.join(dir, 'weights.h5');
  await fsp.writeFile(tmp, bytes);
  let file: H5File;
  try {
    file = await openH5(tmp, label);
  } catch (e) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    file,
    close: () => {
      try { file.close(); } finally { void fsp.rm(dir, { recursive: true, force: true }); }
    },
  };
}

/** Reads an attribute as a string (HDF5 fixed or variable-length strings, or bytes), or null. */
export function attrString(obj: Group | Dataset, name: string): string | null {
  const a = obj.attrs[name];
  if (!a) return null;
  const v = a.value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (Array.isArray(v) && typeof v[0] === 'string') return v.join('');
  return v == null ? null : String(v);
}

/** Reads an attribute as a list of strings (e.g. Keras `weight_names`; empty lists are stored as float arrays). */
export function attrStrings(obj: Group | Dataset, name: string): string[] | null {
  const a = obj.attrs[name];
  if (!a) return null;
  const v = a.value;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : String(x)));
  if (ArrayBuffer.isView(v) && (v as unknown as ArrayLike<number>).length === 0) return [];
  return null;
}

/** Returns the child group at `p`, or null. */
export function getGroup(g: Group, p: string): Group | null {
  const e = g.get(p);
  return e && (e as Group).type === 'Group' ? (e as Group) : null;
}

/** Reads a numeric dataset as float32 (float16/64 and integer datasets are converted). */
export function readArray(g: Group, p: string, label: string): H5Array {
  const e = g.get(p);
  if (!e || (e as Dataset).type !== 'Dataset') throw new Error(`${label}: dataset "${p}" is missing; the file is incomplete, re-export the model`);
  const ds = e as Dataset;
  let v;
  try {
    v = ds.value;
  } catch (err) {
    throw new Error(`${label}: cannot read dataset "${p}" (${(err as Error).message}); the file is damaged, re-export the model`);
  }
  const shape = ds.shape ?? [];
  if (typeof v === 'number' || typeof v === 'bigint') return { shape, data: Float32Array.of(Number(v)) };
  if (!ArrayBuffer.isView(v)) throw new Error(`${label}: dataset "${p}" is not numeric`);
  const data = v instanceof Float32Array ? v : Float32Array.from(v as unknown as ArrayLike<number>, Number);
  return { shape, data };
}
