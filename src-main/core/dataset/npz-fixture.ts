// Writes small NumPy .npz files for tests (uint8 images and labels, as MedMNIST ships them).
import { zipSync } from 'fflate';

/** A .npy file holding `data` (uint8) with `shape`. */
export function npyBytes(data: Uint8Array, shape: number[]): Uint8Array {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(data, 10 + header.length);
  return out;
}

/** An .npz (deflated zip) of the named uint8 arrays. */
export function npzBytes(arrays: Record<string, { data: Uint8Array; shape: number[] }>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, npyBytes(v.data, v.shape)])), { level: 6 });
}
