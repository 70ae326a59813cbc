import os from 'node:os';

/**
 * Parses a `--workers` value: a positive integer, or `auto` for every core (`os.availableParallelism()`).
 * Throws a message naming `source` otherwise.
 */
export function parseWorkers(value: string, source = '--workers'): number {
  const v = value.trim().toLowerCase();
  if (v === 'auto') return os.availableParallelism();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`${source} must be a positive integer or auto (got "${value}")`);
  return n;
}

/** Worker count when none is asked for: every core, at most 4 (beyond that a 32-image batch splits into shares too small to pay). */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/**
 * Cores data-parallel training and inference will actually use on `backend`: the request on the single-threaded
 * wasm and cpu backends, 1 on the native tensorflow backends (they already use every core).
 */
export function effectiveWorkers(requested: number, backend: string): number {
  return backend === 'wasm' || backend === 'cpu' ? Math.max(1, Math.floor(requested)) : 1;
}

/** Memory this machine can still give (bytes): available RAM, or the cgroup limit when that is lower. */
export function availableMemoryBytes(): number {
  const constrained = typeof process.constrainedMemory === 'function' ? Number(process.constrainedMemory()) : 0;
  const free = os.freemem();
  return constrained > 0 && constrained < free ? constrained : free;
}

/**
 * How many of `requested` training threads fit in memory: each needs about `perThreadBytes` (its own wasm heap),
 * and at most 80% of `availableBytes` is used. Never fewer than 1 (the main thread trains anyway).
 */
export function workersForMemory(requested: number, perThreadBytes: number, availableBytes: number): number {
  const fit = Math.floor((0.8 * availableBytes) / Math.max(1, perThreadBytes));
  return Math.max(1, Math.min(requested, fit));
}
