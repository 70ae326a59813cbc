/**
 * Training checkpoints: after every epoch, `<model dir>.checkpoint/` is replaced atomically with the
 * current weights (model.json + weights.bin), the best epoch's weights and the loop state (history,
 * learning rate, patience counters, random draws) and Adam's state (optimizer.bin), so a resumed run
 * continues where it stopped.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeDirAtomic } from '../fs/atomic-write.ts';
import { loadLayersModelFromDir, writeLayersModelToDir } from '../models/tfjs-files.ts';
import type { EpochRecord, FitState } from './fit.ts';

/** The checkpoint folder of a model folder. */
export function checkpointDir(modelDir: string): string {
  return `${path.resolve(modelDir)}.checkpoint`;
}

interface StateFile {
  schemaVersion: 1;
  /** The settings the run was started with; a resume must match them. */
  fingerprint: Record<string, unknown>;
  state: Omit<FitState, 'best' | 'optimizer'> & {
    best: { auc: number | null; loss: number | null; epoch: number; weights: boolean };
    optimizer?: { names: string[]; shapes: number[][] };
  };
  savedAt: string;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** Float arrays back to back as little-endian float32 bytes (for checkpoint files). */
export function floatsToBytes(arrays: readonly Float32Array[]): Uint8Array {
  const buf = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    buf.set(a, o);
    o += a.length;
  }
  return new Uint8Array(buf.buffer);
}

/** Reads a file written by floatsToBytes back into arrays of `sizes`; throws naming the file when the sizes do not add up. */
export async function readFloats(file: string, sizes: number[]): Promise<Float32Array[]> {
  const bytes = await fsp.readFile(file);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (sizes.reduce((s, n) => s + n, 0) !== all.length) throw new Error(`${file}: wrong size for this model; delete the checkpoint folder to start over`);
  let o = 0;
  return sizes.map((n) => all.slice(o, (o += n)));
}

/**
 * Writes the checkpoint of one finished epoch (replacing the previous one atomically); `extra` may add
 * files to the same folder before it replaces the old one (transfer runs keep phase 1 there).
 */
export async function writeCheckpoint(dir: string, model: tfl.LayersModel, state: FitState, fingerprint: Record<string, unknown>, extra?: (tmp: string) => Promise<void>): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await extra?.(tmp);
    await writeLayersModelToDir(model, tmp);
    if (state.best.weights) await fsp.writeFile(path.join(tmp, 'best-weights.bin'), floatsToBytes(state.best.weights));
    const { optimizer, ...rest } = state;
    if (optimizer) await fsp.writeFile(path.join(tmp, 'optimizer.bin'), floatsToBytes(optimizer.values));
    const file: StateFile = {
      schemaVersion: 1, fingerprint, savedAt: new Date().toISOString(),
      state: { ...rest, ...(optimizer ? { optimizer: { names: optimizer.names, shapes: optimizer.shapes } } : {}), history: state.history.map((h) => ({ ...h })), best: { auc: finite(state.best.auc), loss: finite(state.best.loss), epoch: state.best.epoch, weights: !!state.best.weights } },
    };
    await fsp.writeFile(path.join(tmp, 'state.json'), JSON.stringify(file, null, 2) + '\n');
  });
}

/** Removes a checkpoint folder (after the model was saved). */
export async function removeCheckpoint(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
}

/** An epoch history read back from JSON, where non-finite numbers were written as null. */
export function historyFromJson(history: readonly object[]): EpochRecord[] {
  return history.map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v ?? NaN]))) as unknown as EpochRecord[];
}

/** Throws naming `dir` and every differing setting when a checkpoint's fingerprint is not the current run's. */
export function checkFingerprint(dir: string, saved: Record<string, unknown>, now: Record<string, unknown>): void {
  const differs = Object.keys({ ...now, ...saved }).filter((k) => JSON.stringify(now[k]) !== JSON.stringify(saved[k]));
  if (differs.length) {
    throw new Error(`${dir}: the checkpoint was made with other settings (${differs.map((k) => `${k}: ${JSON.stringify(saved[k])} there, ${JSON.stringify(now[k])} now`).join('; ')}); resume with the same command, or delete the folder to start over`);
  }
}

/**
 * Reads a checkpoint: the model at its last finished epoch and the loop state. Throws naming the
 * folder when it is missing or damaged, or when it was made with other settings than `fingerprint`.
 */
export async function readCheckpoint(dir: string, fingerprint: Record<string, unknown>): Promise<{ model: tfl.LayersModel; state: FitState }> {
  let file: StateFile;
  try {
    file = JSON.parse(await fsp.readFile(path.join(dir, 'state.json'), 'utf8')) as StateFile;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(`${dir}: ${missing ? 'no checkpoint to resume from' : `damaged checkpoint (${(e as Error).message})`}; run without --resume to start over`);
  }
  checkFingerprint(dir, file.fingerprint, fingerprint);
  const { model } = await loadLayersModelFromDir(dir);
  let weights: Float32Array[] | null = null;
  if (file.state.best.weights) weights = await readFloats(path.join(dir, 'best-weights.bin'), model.getWeights().map((t: tf.Tensor) => t.size));
  const { optimizer: opt, ...s } = file.state;
  const optimizer = opt ? { ...opt, values: await readFloats(path.join(dir, 'optimizer.bin'), opt.shapes.map((sh) => sh.reduce((a, b) => a * b, 1))) } : undefined;
  return {
    model,
    state: {
      ...s,
      history: historyFromJson(s.history),
      best: { auc: s.best.auc ?? -Infinity, loss: s.best.loss ?? Infinity, epoch: s.best.epoch, weights },
      optimizer,
    },
  };
}
