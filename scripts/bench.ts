// `npm run bench`: throughput of the model alone and of `cxr classify` (decode included) on each
// available backend, at batch 1 and 32, with achieved GFLOP/s and the ratio to `cpu` measured in
// the same run. Uses the shipped default model and ../shared/data/test-dev (full-resolution JPEGs).
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { classifyFiles } from '../src-main/core/classify/classify-files.ts';
import { listImageFiles } from '../src-main/core/dataset/list-files.ts';
import { BACKEND_NAMES, initEngine, probeBackends } from '../src-main/core/engine/backend.ts';
import { tfjsPredictor } from '../src-main/core/inference/predictor.ts';
import { flopsPerImage } from '../src-main/core/models/flops.ts';
import { sharedDataDir } from '../src-main/core/models/paths.ts';
import { loadStoredModel, resolveModel } from '../src-main/core/models/store.ts';

interface Row { backend: string; bench: string; batch: number; images: number; seconds: number; gflop: number }

async function timeIt(fn: () => Promise<void>, minSeconds: number, maxRuns: number): Promise<{ runs: number; seconds: number }> {
  await fn();
  let runs = 0;
  const t0 = performance.now();
  while (runs < maxRuns && (performance.now() - t0) / 1000 < minSeconds) {
    await fn();
    runs++;
  }
  return { runs, seconds: (performance.now() - t0) / 1000 };
}

const stored = await resolveModel('default');
const testDev = path.join(sharedDataDir(), 'test-dev');
const haveData = existsSync(testDev);
if (!haveData) console.log(`note: ${testDev} not found; skipping the classify (decode + model) rows`);
const files = haveData ? (await listImageFiles([testDev])).files : [];
const available = (await probeBackends()).filter((c) => c.available).map((c) => c.name);
const only = process.env.BENCH_BACKENDS?.split(',');
const backends = BACKEND_NAMES.filter((b) => available.includes(b) && (!only || only.includes(b)));
const rows: Row[] = [];
const md = stored.metadata;
console.log(`model ${md.id} v${md.version} (${md.architecture}, ${md.input.width}×${md.input.height}×${md.input.channels}); ${os.availableParallelism()} cores (${os.cpus()[0]?.model}); backends: ${backends.join(', ')}`);

for (const backend of backends) {
  const engine = await initEngine({ backend, chosenBy: 'bench' });
  const model = await loadStoredModel(stored);
  const gflopPerImage = flopsPerImage(model) / 1e9;
  const slow = backend === 'cpu';
  for (const batch of [1, 32]) {
    const x = tf.randomUniform([batch, md.input.height, md.input.width, md.input.channels]);
    const { runs, seconds } = await timeIt(async () => {
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
    }, slow ? 4 : 3, slow ? (batch === 1 ? 8 : 1) : 1000);
    x.dispose();
    rows.push({ backend, bench: 'model alone', batch, images: runs * batch, seconds, gflop: gflopPerImage * runs * batch });
    console.log(`  ${backend} model batch ${batch}: ${((runs * batch) / seconds).toFixed(1)} images/s`);
  }
  if (files.length) {
    const predictor = tfjsPredictor(model, md);
    for (const batch of [1, 32]) {
      const subset = slow ? files.slice(0, 32) : files;
      const out = await classifyFiles({ files: subset, metadata: md, predictor, engine, batchSize: batch });
      rows.push({ backend, bench: 'classify (decode+model)', batch, images: out.records.length, seconds: out.seconds, gflop: gflopPerImage * out.records.length });
      console.log(`  ${backend} classify batch ${batch}: ${(out.records.length / out.seconds).toFixed(1)} images/s`);
    }
  }
  model.dispose();
}

const ips = (r: Row) => r.images / r.seconds;
const cpuOf = (r: Row) => rows.find((c) => c.backend === 'cpu' && c.bench === r.bench && c.batch === r.batch);
console.log('\n| backend | benchmark | batch | images/s | ms/image | GFLOP/s | × cpu |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const c = cpuOf(r);
  console.log(`| ${r.backend} | ${r.bench} | ${r.batch} | ${ips(r).toFixed(1)} | ${(1000 / ips(r)).toFixed(1)} | ${(r.gflop / r.seconds).toFixed(1)} | ${c ? (ips(r) / ips(c)).toFixed(1) : 'n/a'} |`);
}
console.log('\nRatios are against the pure-JavaScript `cpu` backend measured in this same run (yardstick). Classify rows include reading, hashing, decoding and resizing the full-resolution test-dev JPEGs with sharp.');
