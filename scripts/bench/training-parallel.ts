// ─── wasm multi-worker rows (issue #4 item 2) ──────────────────────────────────────────────────────
// Data-parallel training and pooled inference over worker_threads (src-main/core/training/parallel/):
// this file only times them. The wasm-training target takes the best `tfjs wasm…` training row, so a
// multi-worker row counts toward it.
import os from 'node:os';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../src-main/core/engine/backend.ts';
import { measureParallelInference, measureParallelTraining } from '../../src-main/core/training/parallel/index.ts';
import { networkGflop, type Network } from './networks.ts';
import { unavailableRow, type BenchName, type Row } from './rows.ts';
import { progress } from './timing.ts';
import { TRAINING_FLOP_FACTOR } from './training.ts';

const ENGINE = 'tfjs wasm multi-worker';
/** A worker pool that never answers must not hang the whole bench. */
const TIMEOUT_MS = 300_000;

type Measure = (model: tfl.LayersModel, workers: number, steps?: number, batch?: number) => Promise<{ imagesPerSecond: number; steps: number; batch: number }>;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function measureWith(net: Network, measure: Measure, name: string, bench: BenchName, steps: number, gflopFactor: number): Promise<Row> {
  const workers = os.availableParallelism();
  if (workers < 2) return unavailableRow(net.key, ENGINE, bench, 'one core: nothing to parallelise', 32);
  await initEngine({ backend: 'wasm', chosenBy: 'bench' });
  const model = await net.load();
  try {
    const gflop = gflopFactor * networkGflop(model);
    const t = await withTimeout(measure(model, workers, steps, 32), name);
    const engine = `tfjs wasm ×${workers} workers`;
    progress(`${net.key} ${engine} ${bench}, batch ${t.batch}: ${t.imagesPerSecond.toFixed(1)} images/s`);
    const images = t.steps * t.batch;
    return { network: net.key, engine, bench, batch: t.batch, images, seconds: images / t.imagesPerSecond, gflopPerImage: gflop, note: `${name} (src-main/core/training/parallel/), ${t.steps} steps after one warm-up` };
  } catch (e) {
    return unavailableRow(net.key, ENGINE, bench, `${name} failed: ${(e as Error).message.split('\n')[0]}`, 32);
  } finally {
    model.dispose();
  }
}

/** The multi-worker training row of a network. */
export function parallelTraining(net: Network, scale: number): Promise<Row> {
  return measureWith(net, measureParallelTraining, 'measureParallelTraining', 'training', Math.max(2, Math.round(6 * scale)), TRAINING_FLOP_FACTOR);
}

/** The multi-worker model-only (inference, batch 32) row of a network. */
export function parallelInference(net: Network, scale: number): Promise<Row> {
  return measureWith(net, measureParallelInference, 'measureParallelInference', 'model only', Math.max(4, Math.round(20 * scale)), 1);
}
