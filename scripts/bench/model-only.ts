// Model-only inference (no decode), batch 1 and 32: each tfjs backend, onnxruntime-node on the CPU
// (the yardstick), and onnxruntime's CUDA provider when it is installed and a GPU is there.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../../src-shared/types.ts';
import { initEngine } from '../../src-main/core/engine/backend.ts';
import { onnxPredictor } from '../../src-main/core/inference/onnx-predictor.ts';
import type { Predictor } from '../../src-main/core/inference/predictor.ts';
import { convertToOnnx } from '../../src-main/core/onnx/convert-model.ts';
import { modelForPrediction } from '../../src-main/core/familiarity/familiarity.ts';
import { checkParity, syntheticBatch } from '../../src-main/core/onnx/onnx-parity.ts';
import { defaultOrtThreads } from '../../src-main/core/onnx/ort-session.ts';
import { onnxCudaPredictor } from './gpu.ts';
import { networkGflop, type Network } from './networks.ts';
import { ONNX_CPU, unavailableRow, type Row } from './rows.ts';
import { progress, timeIt } from './timing.ts';

export const BATCHES = [1, 32] as const;

/** The table's name for a tfjs backend. */
export function tfjsEngineName(backend: BackendName): string {
  return { 'tensorflow-gpu': 'tfjs-node-gpu', tensorflow: 'tfjs-node', wasm: 'tfjs wasm', cpu: 'tfjs cpu' }[backend];
}

function row(net: Network, engine: string, batch: number, runs: number, seconds: number, gflop: number, note?: string): Row {
  const r: Row = { network: net.key, engine, bench: 'model only', batch, images: runs * batch, seconds, gflopPerImage: gflop, note };
  progress(`${net.key} ${engine} model only, batch ${batch}: ${(r.images / seconds).toFixed(1)} images/s`);
  return r;
}

/** Model-only rows of one network on one tfjs backend (activated here). */
export async function tfjsModelOnly(net: Network, backend: BackendName, scale: number): Promise<Row[]> {
  await initEngine({ backend, chosenBy: 'bench' });
  const model = await net.load();
  const gflop = networkGflop(model);
  const { height, width, channels } = net.metadata.input;
  const slow = backend === 'cpu';
  const rows: Row[] = [];
  try {
    for (const batch of BATCHES) {
      const x = tf.randomUniform([batch, height, width, channels]);
      // tfjs cpu needs ≈ 10 s per batch of 32: that batch runs once, warmed up by the batch-1 runs.
      const { runs, seconds } = await timeIt(async () => {
        const y = model.predict(x) as tf.Tensor;
        await y.data();
        y.dispose();
      }, (slow ? 4 : 3) * scale, slow ? (batch === 1 ? 8 : 1) : 1000, !(slow && batch > 1));
      x.dispose();
      rows.push(row(net, tfjsEngineName(backend), batch, runs, seconds, gflop, slow && batch > 1 ? 'one run' : undefined));
    }
  } finally {
    model.dispose();
  }
  return rows;
}

async function predictorRows(net: Network, engine: string, predictor: Predictor, gflop: number, scale: number, note: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const batch of BATCHES) {
    const x = syntheticBatch(net.metadata.input, batch).data;
    const { runs, seconds } = await timeIt(async () => {
      await predictor.predict(x, batch);
    }, 3 * scale, 1000);
    rows.push(row(net, engine, batch, runs, seconds, gflop, note));
  }
  return rows;
}

/** The network converted by our ONNX exporter (under the wasm backend), with its FLOPs and a parity check. */
export async function exportOnnx(net: Network): Promise<{ onnx: Uint8Array; gflop: number; parity: string }> {
  await initEngine({ backend: 'wasm', chosenBy: 'bench' });
  const model = await net.load();
  try {
    const run = modelForPrediction(model, net.metadata); // as the app runs it: with the familiarity feature when the model has one
    const onnx = convertToOnnx(run);
    const p = await checkParity(run, onnx, net.metadata.input, syntheticBatch(net.metadata.input, 2));
    return { onnx, gflop: networkGflop(model), parity: `max |Δ| vs tfjs ${p.maxAbsDiff.toExponential(1)}${p.ok ? '' : ' (PARITY FAILED)'}` };
  } finally {
    model.dispose();
  }
}

/** onnxruntime-node rows of one network: CPU (the yardstick) and, when asked for and present, CUDA. */
export async function onnxModelOnly(net: Network, scale: number, cuda: { wanted: boolean; why?: string }): Promise<Row[]> {
  let exported: Awaited<ReturnType<typeof exportOnnx>>;
  try {
    exported = await exportOnnx(net);
  } catch (e) {
    return [unavailableRow(net.key, ONNX_CPU, 'model only', `export failed: ${(e as Error).message.split('\n')[0]}`)];
  }
  const rows: Row[] = [];
  const threads = defaultOrtThreads();
  const cpu = await onnxPredictor(exported.onnx, net.metadata, { threads });
  try {
    rows.push(...await predictorRows(net, ONNX_CPU, cpu, exported.gflop, scale, `${threads} threads; ${exported.parity}`));
  } finally {
    cpu.dispose();
  }
  if (!cuda.wanted) return rows;
  if (cuda.why) return [...rows, unavailableRow(net.key, 'onnxruntime cuda', 'model only', cuda.why)];
  try {
    const gpu = await onnxCudaPredictor(exported.onnx, net.metadata);
    try {
      rows.push(...await predictorRows(net, 'onnxruntime cuda', gpu, exported.gflop, scale, 'CUDA provider'));
    } finally {
      gpu.dispose();
    }
  } catch (e) {
    rows.push(unavailableRow(net.key, 'onnxruntime cuda', 'model only', `CUDA session failed: ${(e as Error).message.split('\n')[0]}`));
  }
  return rows;
}
