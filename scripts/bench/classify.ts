// Decode-only throughput (sharp, no model) and end-to-end `cxr classify` on test-dev per engine, with
// the fixed start-up cost excluded: (N − 1) / (best time for N images − best time for 1 image).
import os from 'node:os';
import type { BackendName, InputSpec } from '../../src-shared/types.ts';
import { loadForModel } from '../../src-main/core/imaging/preprocess.ts';
import { runClassifyChild } from './child.ts';
import type { E2eResult } from './classify-child.ts';
import { tfjsEngineName } from './model-only.ts';
import type { Network } from './networks.ts';
import { autoEngineLabel, ONNX_CPU, startupExcludedRate, unavailableRow, type Row } from './rows.ts';
import { progress, secondsOf } from './timing.ts';

/** Reads, hashes, decodes and resizes every file with sharp, 2 in flight per core; one warm-up pass first. */
export async function decodeOnly(network: string, files: string[], spec: InputSpec): Promise<Row> {
  const pass = async () => {
    let next = 0;
    await Promise.all(Array.from({ length: 2 * os.availableParallelism() }, async () => {
      while (next < files.length) await loadForModel(files[next++], spec);
    }));
  };
  await pass();
  const seconds = await secondsOf(pass);
  progress(`decode only: ${(files.length / seconds).toFixed(1)} images/s`);
  return { network, engine: 'sharp', bench: 'decode only', batch: 0, images: files.length, seconds, gflopPerImage: 0, note: `${2 * os.availableParallelism()} in flight, ${files.length} test-dev files` };
}

/** A classify e2e row from the child's timings (best of each). */
export function e2eRow(network: string, engine: string, r: E2eResult, gflop: number): Row {
  const t1 = Math.min(...r.seconds1);
  const tN = Math.min(...r.secondsN);
  const rate = startupExcludedRate(r.n, tN, t1);
  return {
    network, engine, bench: 'classify e2e', batch: 0, images: r.n - 1, seconds: (r.n - 1) / rate, gflopPerImage: gflop,
    note: `N=${r.n}: ${tN.toFixed(2)} s − 1 image: ${t1.toFixed(2)} s; ${r.engine}; CLI default batch size`,
  };
}

/**
 * `cxr classify` rows: the automatic choice, then onnxruntime and each available tfjs backend forced
 * (tfjs cpu on 16 images: it runs ≈ 3 images/s).
 */
export async function classifyE2e(net: Network, files: string[], o: { onnx: boolean; backends: BackendName[]; gflop: number }): Promise<Row[]> {
  if (!net.stored) return [unavailableRow(net.key, 'cxr classify', 'classify e2e', 'not a stored model')];
  const runs = [{ label: 'cxr classify (auto)', args: [] as string[] }];
  if (o.onnx) runs.push({ label: ONNX_CPU, args: ['--engine', 'onnx'] });
  for (const b of o.backends.filter((b) => b !== 'cpu')) runs.push({ label: tfjsEngineName(b), args: ['--engine', 'tfjs', '--backend', b] });
  const groups = [{ files, runs }];
  if (o.backends.includes('cpu')) groups.push({ files: files.slice(0, 16), runs: [{ label: 'tfjs cpu', args: ['--engine', 'tfjs', '--backend', 'cpu'] }] });
  const rows: Row[] = [];
  for (const g of groups) {
    try {
      const out = await runClassifyChild({ mode: 'e2e', inputs: g.files, runs: g.runs, model: net.stored.dir });
      if (out.mode !== 'e2e') throw new Error('unexpected child result');
      for (const r of out.results) {
        const engine = r.label === 'cxr classify (auto)' ? autoEngineLabel(r.engine) : r.label;
        const row = e2eRow(net.key, engine, r, o.gflop);
        rows.push(row);
        progress(`${net.key} ${engine} classify e2e: ${(row.images / row.seconds).toFixed(1)} images/s`);
      }
    } catch (e) {
      for (const r of g.runs) rows.push(unavailableRow(net.key, r.label, 'classify e2e', (e as Error).message.split('\n')[0]));
    }
  }
  return rows;
}
