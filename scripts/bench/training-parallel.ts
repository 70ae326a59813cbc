// ─── wasm multi-worker rows (issue #4 item 2) ──────────────────────────────────────────────────────
// Data-parallel training and pooled inference over worker_threads are built in
// src-main/core/training/parallel/ (not by the bench; this file only calls them). The bench looks
// there at run time for:
//   measureParallelTraining(model, workers, steps, batch) → { imagesPerSecond, steps, … }  → training row
//   measureParallelInference(model, workers, steps, batch) → { imagesPerSecond, steps, … } → model-only row
// and, failing those, for a `trainStepsParallel` export (not wired up yet: add its call in
// `parallelTraining` below). Until one exists the rows say "not available". The wasm-training target
// takes the best `tfjs wasm…` training row, so a multi-worker row counts toward it.
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../src-main/core/engine/backend.ts';
import { repoRoot } from '../../src-main/core/models/paths.ts';
import { networkGflop, type Network } from './networks.ts';
import { unavailableRow, type BenchName, type Row } from './rows.ts';
import { progress } from './timing.ts';
import { TRAINING_FLOP_FACTOR } from './training.ts';

const PARALLEL_DIR = path.join('src-main', 'core', 'training', 'parallel');
const ENGINE = 'tfjs wasm multi-worker';
/** A worker pool that never answers must not hang the whole bench. */
const TIMEOUT_MS = 300_000;

type Measure = (model: tfl.LayersModel, workers: number, steps?: number, batch?: number) => Promise<{ imagesPerSecond: number; steps: number; batch: number }>;

/** The first module under src-main/core/training/parallel/ exporting function `name`, if any. */
export async function findParallelExport(name: string): Promise<{ file: string; fn: unknown } | null> {
  const dir = path.join(repoRoot(), PARALLEL_DIR);
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort((a, b) => (a === 'index.ts' ? -1 : b === 'index.ts' ? 1 : a.localeCompare(b)));
  for (const f of files) {
    try {
      const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as Record<string, unknown>;
      if (typeof mod[name] === 'function') return { file: path.join(PARALLEL_DIR, f), fn: mod[name] };
    } catch { /* a module that does not load (worker entry, work in progress) is skipped */ }
  }
  return null;
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function measureWith(net: Network, exportName: string, bench: BenchName, steps: number, gflopFactor: number): Promise<Row> {
  const workers = os.availableParallelism();
  const found = await findParallelExport(exportName);
  if (!found) return unavailableRow(net.key, ENGINE, bench, `not available: no ${exportName} export in ${PARALLEL_DIR}/ yet`, 32);
  if (workers < 2) return unavailableRow(net.key, ENGINE, bench, 'one core: nothing to parallelise', 32);
  await initEngine({ backend: 'wasm', chosenBy: 'bench' });
  const model = await net.load();
  try {
    const gflop = gflopFactor * networkGflop(model);
    const t = await withTimeout((found.fn as Measure)(model, workers, steps, 32), `${exportName}`);
    const engine = `tfjs wasm ×${workers} workers`;
    progress(`${net.key} ${engine} ${bench}, batch ${t.batch}: ${t.imagesPerSecond.toFixed(1)} images/s`);
    const images = t.steps * t.batch;
    return { network: net.key, engine, bench, batch: t.batch, images, seconds: images / t.imagesPerSecond, gflopPerImage: gflop, note: `${exportName} (${found.file}), ${t.steps} steps after one warm-up` };
  } catch (e) {
    return unavailableRow(net.key, ENGINE, bench, `${exportName} failed: ${(e as Error).message.split('\n')[0]}`, 32);
  } finally {
    model.dispose();
  }
}

/** The multi-worker training row of a network. */
export async function parallelTraining(net: Network, scale: number): Promise<Row> {
  if (net.metadata.architecture.startsWith('transfer:')) {
    return unavailableRow(net.key, ENGINE, 'training', 'not used: cxr train runs transfer models on one thread (micro-batches; a 16-image share does not fit one wasm heap)', 32);
  }
  const row = await measureWith(net, 'measureParallelTraining', 'training', Math.max(2, Math.round(6 * scale)), TRAINING_FLOP_FACTOR);
  if (!row.unavailable?.startsWith('not available')) return row;
  const steps = await findParallelExport('trainStepsParallel');
  // WIRE-UP: when only trainStepsParallel exists, call steps.fn here and return a 'training' row like measureWith's.
  return steps ? unavailableRow(net.key, ENGINE, 'training', `trainStepsParallel found in ${steps.file} but not wired into the bench yet (scripts/bench/training-parallel.ts)`, 32) : row;
}

/** The multi-worker model-only (inference, batch 32) row of a network. */
export function parallelInference(net: Network, scale: number): Promise<Row> {
  return measureWith(net, 'measureParallelInference', 'model only', Math.max(4, Math.round(20 * scale)), 1);
}
