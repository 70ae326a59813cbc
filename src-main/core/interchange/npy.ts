// Minimal NumPy .npy reader/writer (float32/float64/int, little-endian, C order) for tests and parity checks.
import { promises as fsp } from 'node:fs';

/** An n-dimensional float array from a .npy file. */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

/** Parses .npy bytes (format 1.0–3.0); values are converted to float32. Throws naming `label`. */
export function parseNpy(bytes: Uint8Array, label = '(npy)'): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${label}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 + hlen : 12 + hlen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!descr || fortran) throw new Error(`${label}: unsupported .npy header ${header.trim()}`);
  const n = shape.reduce((a, b) => a * b, 1);
  const body = new Uint8Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  const types: Record<string, { new (b: ArrayBuffer, o: number, n: number): ArrayLike<number> } & { BYTES_PER_ELEMENT: number }> = {
    '<f4': Float32Array, '<f8': Float64Array, '<i4': Int32Array, '|u1': Uint8Array, '<i2': Int16Array, '|i1': Int8Array,
  };
  const T = types[descr];
  if (!T) throw new Error(`${label}: unsupported dtype ${descr}`);
  if (body.byteLength < n * T.BYTES_PER_ELEMENT) throw new Error(`${label}: truncated (${body.byteLength} bytes for ${n} values)`);
  const view = new T(body.buffer as ArrayBuffer, 0, n);
  return { shape, data: view instanceof Float32Array ? view : Float32Array.from(view) };
}

/** Reads a .npy file. */
export async function readNpy(file: string): Promise<NpyArray> {
  return parseNpy(await fsp.readFile(file), file);
}
