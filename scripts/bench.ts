// `npm run bench`: issue #4's benchmark in one run. For the default model (read from its metadata)
// and the seed-like reference CNN: model-only inference (batch 1, 32) on every tfjs backend and on
// onnxruntime-node (the yardstick; its CUDA provider too when present), end-to-end `cxr classify` on
// ../shared/data/test-dev with start-up excluded, sharp decode-only, training images/s per engine,
// activations + Grad-CAM, and the peak RSS of a 2,000-image classify; then the targets, met or not.
// Prints the table and writes it to bench/results.md. Knobs (BENCH_BACKENDS, BENCH_PARTS,
// BENCH_SCALE, …): see bench/README.md.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../src-shared/types.ts';
import { listImageFiles } from '../src-main/core/dataset/list-files.ts';
import { BACKEND_NAMES, initEngine, probeBackends } from '../src-main/core/engine/backend.ts';
import { writeFileAtomic } from '../src-main/core/fs/atomic-write.ts';
import { sharedDataDir } from '../src-main/core/models/paths.ts';
import { ortVersion } from '../src-main/core/onnx/ort-session.ts';
import { classifyE2e, decodeOnly } from './bench/classify.ts';
import { benchConfig, type EngineKey } from './bench/config.ts';
import { explainRows } from './bench/explain.ts';
import { carriedOrtCudaDir, installCarriedOrtCuda, nvidiaGpus, ortCudaProvider } from './bench/gpu.ts';
import { classifyMemory } from './bench/memory.ts';
import { onnxModelOnly, tfjsEngineName, tfjsModelOnly } from './bench/model-only.ts';
import { defaultNetwork, networkGflop, referenceNetwork, type Network } from './bench/networks.ts';
import { renderReport } from './bench/report.ts';
import { fmt, imagesPerSecond, unavailableRow, type Row } from './bench/rows.ts';
import { evaluateTargets, pipelineLimitOf } from './bench/targets.ts';
import { onnxTrainingRow, tfjsTraining } from './bench/training.ts';
import { parallelInference, parallelTraining } from './bench/training-parallel.ts';

const cfg = benchConfig();
const load = os.loadavg()[0];
const cores = os.availableParallelism();
const gpu = nvidiaGpus();
const carried = installCarriedOrtCuda(carriedOrtCudaDir(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')));
const cuda = ortCudaProvider();
const wants = (e: EngineKey) => cfg.engines.has(e);

const def = await defaultNetwork(cfg.model);
const ref = referenceNetwork(cfg.referencePadding);
const networks: Network[] = [ref, def];
const gflop = new Map<string, number>();
await initEngine({ backend: 'wasm', chosenBy: 'bench' });
for (const n of networks) {
  const m = await n.load();
  gflop.set(n.key, networkGflop(m));
  m.dispose();
}

const rows: Row[] = [];
const candidates = await probeBackends();
const backends: BackendName[] = [];
for (const b of BACKEND_NAMES.filter((b) => wants(b))) {
  const c = candidates.find((x) => x.name === b);
  if (c?.available) backends.push(b);
  else rows.push(unavailableRow(def.key, tfjsEngineName(b), 'model only', c?.detail ?? 'not probed'));
}
const cudaWhy = !cuda.present ? cuda.detail : !gpu.found ? `CUDA provider installed but ${gpu.detail}` : undefined;

const testDev = path.join(sharedDataDir(), 'test-dev');
const all = existsSync(testDev) ? (await listImageFiles([testDev])).files : [];
const files = cfg.files ? all.slice(0, cfg.files) : all;
if (!files.length) console.log(`note: no images in ${testDev}; the classify, decode-only and explain rows are skipped`);

const header = [
  `# npm run bench — ${new Date().toISOString()}`,
  '',
  `- machine: ${cores} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${fmt(os.totalmem() / 2 ** 30, 0)} GiB; load average at start ${load.toFixed(2)}${load > 0.5 ? ' (busy: other processes were running)' : ''}`,
  `- software: Node ${process.version}, tfjs ${tf.version_core}, onnxruntime-node ${(await ortVersion()) ?? 'not loadable'}; tfjs backends available: ${candidates.filter((c) => c.available).map((c) => c.name).join(', ')}`,
  `- GPU: ${gpu.detail}; tfjs-node-gpu: ${candidates.find((c) => c.name === 'tensorflow-gpu')?.detail ?? '–'}; onnxruntime CUDA: ${cuda.present ? cuda.detail : 'not installed'}; carried GPU files: ${carried.detail}`,
  ...networks.map((n) => `- ${n === def ? 'default' : n.key} network: ${n.label}; ${fmt(gflop.get(n.key)!, 3)} GFLOP/image (forward)`),
  `- test-dev: ${files.length} full-resolution images from ${testDev}`,
];
console.log(header.join('\n'));

if (cfg.parts.has('model')) {
  for (const n of networks) {
    for (const b of backends) rows.push(...await tfjsModelOnly(n, b, cfg.scale));
    if (backends.includes('wasm')) rows.push(await parallelInference(n, cfg.scale));
    if (wants('onnx') || wants('onnx-cuda')) rows.push(...await onnxModelOnly(n, cfg.scale, { wanted: wants('onnx-cuda'), why: cudaWhy }));
  }
}

if (cfg.parts.has('classify') && files.length >= 2) {
  rows.push(await decodeOnly(def.key, files, def.metadata.input));
  rows.push(...await classifyE2e(def, files, { onnx: wants('onnx'), backends, gflop: gflop.get(def.key)! }));
}

if (cfg.parts.has('training')) {
  rows.push(...await tfjsTraining(ref, backends, { scale: cfg.scale, cpuStep: cfg.cpuTraining }));
  if (backends.includes('wasm')) rows.push(await parallelTraining(ref, cfg.scale));
  if (wants('onnx')) rows.push(onnxTrainingRow(ref.key));
  rows.push(...await tfjsTraining(def, backends, { scale: cfg.scale, cpuStep: false }));
  if (backends.includes('wasm')) rows.push(await parallelTraining(def, cfg.scale));
}

if (cfg.parts.has('explain') && files.length) rows.push(...await explainRows(def, files[0]));

if (cfg.parts.has('memory') && cfg.memoryImages > 0) rows.push(await classifyMemory(cfg.memoryImages, def.stored?.dir, def.key));

// The end-to-end rows' ratio to the pipeline limit 1 / (1/decode-only + 1/best model-only), same run.
const limit = pipelineLimitOf(rows, def.key);
for (const r of rows.filter((r) => r.bench === 'classify e2e' && !r.unavailable)) {
  r.note = limit ? `${fmt(imagesPerSecond(r) / limit.limit, 2)}× pipeline limit (${fmt(limit.limit)} img/s); ${r.note}` : `no pipeline limit (needs decode-only and model-only rows); ${r.note}`;
}

const targets = evaluateTargets(rows, { defaultNetwork: def.key, referenceNetwork: ref.key });
const report = renderReport(header, rows, targets, networks.map((n) => n.key));
console.log('\n' + report.slice(header.length).join('\n'));
await writeFileAtomic(path.join('bench', 'results.md'), report.join('\n') + '\n');
console.log('\n(also written to bench/results.md)');
process.exit(0); // a worker pool left behind by a failed multi-worker row must not keep the bench alive
