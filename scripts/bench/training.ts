// Training images/s: Adam steps of (unweighted) binary cross-entropy on random images, per tfjs
// backend (wasm with our gradient kernels, tfjs-node(-gpu) when present, one tiny tfjs cpu step),
// wasm multi-worker (see training-parallel.ts), and onnxruntime-node (no training API).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../src-shared/types.ts';
import { initEngine } from '../../src-main/core/engine/backend.ts';
import { accumulatedStep, microBatchSize } from '../../src-main/core/training/micro-batch.ts';
import { tfjsEngineName } from './model-only.ts';
import { networkGflop, type Network } from './networks.ts';
import { unavailableRow, type Row } from './rows.ts';
import { progress, timeIt } from './timing.ts';

/** Forward + backward ≈ 3 × the forward FLOPs. */
export const TRAINING_FLOP_FACTOR = 3;

/** Steps of batch `batch` on `backend`: at least `minSeconds` (at most 20 steps), or exactly one when `once`. */
export async function trainingRow(net: Network, backend: BackendName, batch: number, minSeconds: number, once = false): Promise<Row> {
  await initEngine({ backend, chosenBy: 'bench' });
  const model = await net.load();
  const { height, width, channels } = net.metadata.input;
  const opt = tf.train.adam(1e-4);
  const x = tf.randomUniform([batch, height, width, channels]);
  const y = tf.cast(tf.greater(tf.randomUniform([batch, 1]), 0.5), 'float32');
  // As cxr train does: a batch too large for the backend's memory is taken in micro-batches.
  const micro = microBatchSize(model, batch, backend);
  const pixels = micro < batch ? (x.dataSync() as Float32Array) : null;
  const labels = Array.from(y.dataSync());
  try {
    const { runs, seconds } = await timeIt(async () => {
      if (pixels) {
        await accumulatedStep(model, opt, pixels, [height, width, channels], labels, labels.map(() => 1), micro);
        return;
      }
      const loss = opt.minimize(() => tf.mean(tf.losses.logLoss(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true);
      await loss!.data();
      loss!.dispose();
    }, minSeconds, once ? 1 : 20, !once);
    const engine = tfjsEngineName(backend);
    const r: Row = {
      network: net.key, engine, bench: 'training', batch, images: runs * batch, seconds, gflopPerImage: TRAINING_FLOP_FACTOR * networkGflop(model),
      note: (once ? 'one step, not warmed up' : `${runs} Adam step${runs === 1 ? '' : 's'} after one warm-up`) + (pixels ? `, in micro-batches of ${micro} (wasm memory)` : ''),
    };
    progress(`${net.key} ${engine} training, batch ${batch}: ${(r.images / seconds).toFixed(2)} images/s`);
    return r;
  } finally {
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  }
}

/** Training rows of one network on the given tfjs backends (cpu: one batch-2 step, only when `cpuStep`). */
export async function tfjsTraining(net: Network, backends: BackendName[], o: { scale: number; cpuStep: boolean }): Promise<Row[]> {
  const rows: Row[] = [];
  for (const b of backends) {
    if (b === 'cpu') {
      if (!o.cpuStep) {
        rows.push(unavailableRow(net.key, 'tfjs cpu', 'training', 'skipped: one batch-2 step takes about a minute (≈ 0.04 images/s); measured on the reference CNN only (BENCH_CPU_TRAINING=0 skips it there too)', 2));
        continue;
      }
      rows.push(await trainingRow(net, 'cpu', 2, 0, true));
      continue;
    }
    try {
      rows.push(await trainingRow(net, b, 32, 8 * o.scale));
    } catch (e) {
      rows.push(unavailableRow(net.key, tfjsEngineName(b), 'training', `failed: ${(e as Error).message.split('\n')[0]}`, 32));
    }
  }
  return rows;
}

/** onnxruntime-node cannot train: say so in the table. */
export function onnxTrainingRow(network: string): Row {
  return unavailableRow(network, 'onnxruntime cpu', 'training', 'onnxruntime-node has no training API (on-device training is not in its Node binding); it is an inference engine here');
}
