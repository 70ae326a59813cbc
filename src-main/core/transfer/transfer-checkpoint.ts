// Checkpoints of a two-phase transfer run, in the same `<model dir>.checkpoint/` folder as from-scratch runs:
// stage "features" (the frozen base's cached feature vectors: the slow part of phase 1), stage "phase1" (phase 1
// finished: its weights and summary), stage "phase2" (after every fine-tuning epoch: the usual epoch checkpoint of
// checkpoint.ts plus phase 1's weights and summary, which decide whether fine-tuning is kept). Each write replaces
// the folder atomically; a resume must come with the same settings (fingerprint).
import * as tf from '@tensorflow/tfjs-core';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { writeDirAtomic } from '../fs/atomic-write.ts';
import { checkFingerprint, floatsToBytes, historyFromJson, readCheckpoint, readFloats, writeCheckpoint } from '../training/checkpoint.ts';
import type { ArrayDataset, EpochRecord, FitState } from '../training/fit.ts';

/** What phase 1 produced, kept for phase 2 and the model's metadata. */
export interface Phase1Record {
  history: EpochRecord[];
  bestEpoch: number;
  bestSelectionAuc: number;
}

/** A transfer checkpoint as read back. */
export type TransferResume =
  | { stage: 'features'; fit: ArrayDataset; selection: ArrayDataset }
  | { stage: 'phase1'; phase1: Phase1Record; phase1Weights: Float32Array[] }
  | { stage: 'phase2'; phase1: Phase1Record; phase1Weights: Float32Array[]; weights: Float32Array[]; state: FitState };

interface TransferFile {
  schemaVersion: 1;
  stage: TransferResume['stage'];
  fingerprint: Record<string, unknown>;
  phase1?: Phase1Record;
  features?: { featureSize: number; fit: number[]; selection: number[] };
  weightSizes?: number[];
}

const FILE = 'transfer.json';

/**
 * Every weight of `model`, layer by layer (a model's own getWeights() lists trainable weights first, so its
 * order changes when layers are frozen or unfrozen; this order does not).
 */
export function weightsByLayer(model: tfl.LayersModel): Float32Array[] {
  return model.layers.flatMap((l) => l.getWeights().map((t) => Float32Array.from(t.dataSync() as Float32Array)));
}

/** Sets the weights saved by weightsByLayer (same architecture); throws when they do not fit. */
export function setWeightsByLayer(model: tfl.LayersModel, arrays: readonly Float32Array[]): void {
  let i = 0;
  for (const layer of model.layers) {
    const current = layer.getWeights();
    if (!current.length) continue;
    const next = current.map((t) => {
      const a = arrays[i++];
      if (!a || a.length !== t.size) throw new Error(`checkpoint weights do not fit layer "${layer.name}"; delete the checkpoint folder to start over`);
      return tf.tensor(a, t.shape);
    });
    layer.setWeights(next);
    tf.dispose(next);
  }
  if (i !== arrays.length) throw new Error(`checkpoint holds ${arrays.length} weight arrays, the model ${i}; delete the checkpoint folder to start over`);
}
/** JSON writes non-finite numbers (an AUC of NaN, a best of −∞) as null; reading maps them back. */
async function writeTransferFile(tmp: string, file: TransferFile): Promise<void> {
  await fsp.writeFile(path.join(tmp, FILE), JSON.stringify(file, null, 2) + '\n');
}

async function writePhase1Files(tmp: string, weights: Float32Array[]): Promise<void> {
  await fsp.writeFile(path.join(tmp, 'phase1-weights.bin'), floatsToBytes(weights));
}

/** Saves the cached features (plain + augmented views of the fit set, and the selection set). */
export async function writeFeaturesCheckpoint(dir: string, fingerprint: Record<string, unknown>, fit: ArrayDataset, selection: ArrayDataset): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await fsp.writeFile(path.join(tmp, 'features-fit.bin'), floatsToBytes(fit.pixels));
    await fsp.writeFile(path.join(tmp, 'features-selection.bin'), floatsToBytes(selection.pixels));
    await writeTransferFile(tmp, { schemaVersion: 1, stage: 'features', fingerprint, features: { featureSize: fit.pixels[0]?.length ?? 0, fit: fit.labels, selection: selection.labels } });
  });
}

/** Saves phase 1's result: every weight of the model after phase 1, and its summary. */
export async function writePhase1Checkpoint(dir: string, fingerprint: Record<string, unknown>, phase1: Phase1Record, weights: Float32Array[]): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await writePhase1Files(tmp, weights);
    await writeTransferFile(tmp, { schemaVersion: 1, stage: 'phase1', fingerprint, phase1, weightSizes: weights.map((w) => w.length) });
  });
}

/** Saves a fine-tuning epoch (the usual epoch checkpoint) together with phase 1's weights and summary. */
export async function writePhase2Checkpoint(
  dir: string, fingerprint: Record<string, unknown>, model: tfl.LayersModel, state: FitState, phase1: Phase1Record, phase1Weights: Float32Array[],
): Promise<void> {
  await writeCheckpoint(dir, model, state, fingerprint, async (tmp) => {
    await writePhase1Files(tmp, phase1Weights);
    await writeTransferFile(tmp, { schemaVersion: 1, stage: 'phase2', fingerprint, phase1, weightSizes: phase1Weights.map((w) => w.length) });
  });
}

/** Reads a transfer checkpoint; throws naming the folder when it is missing, damaged or made with other settings. */
export async function readTransferCheckpoint(dir: string, fingerprint: Record<string, unknown>): Promise<TransferResume> {
  let file: TransferFile;
  try {
    file = JSON.parse(await fsp.readFile(path.join(dir, FILE), 'utf8')) as TransferFile;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(`${dir}: ${missing ? 'no transfer-learning checkpoint to resume from' : `damaged checkpoint (${(e as Error).message})`}; run without --resume to start over`);
  }
  checkFingerprint(dir, file.fingerprint, fingerprint);
  const phase1 = file.phase1 && { ...file.phase1, history: historyFromJson(file.phase1.history), bestSelectionAuc: file.phase1.bestSelectionAuc ?? -Infinity };
  if (file.stage === 'features') {
    const f = file.features!;
    const load = async (name: string, labels: number[]): Promise<ArrayDataset> => ({ pixels: await readFloats(path.join(dir, name), labels.map(() => f.featureSize)), labels });
    return { stage: 'features', fit: await load('features-fit.bin', f.fit), selection: await load('features-selection.bin', f.selection) };
  }
  const phase1Weights = await readFloats(path.join(dir, 'phase1-weights.bin'), file.weightSizes ?? []);
  if (file.stage === 'phase1') return { stage: 'phase1', phase1: phase1!, phase1Weights };
  const { model, state } = await readCheckpoint(dir, fingerprint);
  const weights = weightsByLayer(model);
  model.dispose();
  return { stage: 'phase2', phase1: phase1!, phase1Weights, weights, state };
}
