// `npm run bench`: throughput of the model alone and of `cxr classify` (decode included) on each
// available TensorFlow.js backend and on onnxruntime-node (the yardstick: the fastest CPU runtime
// here), at batch 1 and 32, with achieved GFLOP/s and each row's ratio to onnxruntime and to tfjs
// `cpu`, all measured in the same run. Uses the shipped default model and ../shared/data/test-dev
// (full-resolution JPEGs). BENCH_BACKENDS=wasm,onnx limits the rows.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { classifyFiles } from '../src-main/core/classify/classify-files.ts';
import { listImageFiles } from '../src-main/core/dataset/list-files.ts';
import { BACKEND_NAMES, initEngine, probeBackends } from '../src-main/core/engine/backend.ts';
import { tfjsPredictor, type Predictor } from '../src-main/core/inference/predictor.ts';
import { onnxPredictor } from '../src-main/core/inference/onnx-predictor.ts';
import { convertToOnnx } from '../src-main/core/onnx/convert-model.ts';
import { loadForModel } from '../src-main/core/imaging/preprocess.ts';
import { writeFileAtomic } from '../src-main/core/fs/atomic-write.ts';
import { openExplainModel } from '../src-main/core/explain/explain-model.ts';
import { layerActivations } from '../src-main/core/explain/activations.ts';
import { gradCam } from '../src-main/core/explain/gradcam.ts';
import { buildTransferModel } from '../src-main/core/transfer/backbone.ts';
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

async function benchPredictor(name: string, predictor: Predictor, gflopPerImage: number, engine: Awaited<ReturnType<typeof initEngine>>) {
  for (const batch of [1, 32]) {
    const x = new Float32Array(batch * md.input.height * md.input.width * md.input.channels).map(() => Math.random());
    const { runs, seconds } = await timeIt(async () => {
      await predictor.predict(x, batch);
    }, 3, 1000);
    rows.push({ backend: name, bench: 'model alone', batch, images: runs * batch, seconds, gflop: gflopPerImage * runs * batch });
    console.log(`  ${name} model batch ${batch}: ${((runs * batch) / seconds).toFixed(1)} images/s`);
  }
  for (const batch of [1, 32]) {
    if (!files.length) break;
    const out = await classifyFiles({ files, metadata: md, predictor, engine, batchSize: batch });
    rows.push({ backend: name, bench: 'classify (decode+model)', batch, images: out.records.length, seconds: out.seconds, gflop: gflopPerImage * out.records.length });
    console.log(`  ${name} classify batch ${batch}: ${(out.records.length / out.seconds).toFixed(1)} images/s`);
  }
}

if (!only || only.includes('onnx')) {
  try {
    const engine = await initEngine({ backend: 'wasm', chosenBy: 'bench' });
    const model = await loadStoredModel(stored);
    const gflopPerImage = flopsPerImage(model) / 1e9;
    const predictor = await onnxPredictor(convertToOnnx(model), md);
    model.dispose();
    await benchPredictor('onnxruntime', predictor, gflopPerImage, engine);
    predictor.dispose();
  } catch (e) {
    console.log(`  onnxruntime: not measured (${(e as Error).message.split('\n')[0]})`);
  }
}

if (files.length) {
  // Decode only: read, hash, decode and resize with sharp, 2 in flight per core (no model).
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 2 * os.availableParallelism() }, async () => {
    while (next < files.length) await loadForModel(files[next++], md.input);
  }));
  const seconds = (performance.now() - t0) / 1000;
  rows.push({ backend: 'sharp', bench: 'decode only', batch: 0, images: files.length, seconds, gflop: 0 });
}

// Training on wasm (with our gradient kernels): a few Adam steps of the default architecture, batch 32.
if (!only || only.includes('wasm')) {
  await initEngine({ backend: 'wasm', chosenBy: 'bench' });
  const model = await loadStoredModel(stored);
  const opt = tf.train.adam(1e-4);
  const x = tf.randomUniform([32, md.input.height, md.input.width, md.input.channels]);
  const y = tf.ones([32, 1]);
  const { runs, seconds } = await timeIt(async () => {
    const loss = opt.minimize(() => tf.mean(tf.losses.logLoss(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true);
    await loss!.data();
    loss!.dispose();
  }, 8, 20);
  rows.push({ backend: 'wasm', bench: 'training step', batch: 32, images: runs * 32, seconds, gflop: (3 * flopsPerImage(model) * runs * 32) / 1e9 });
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
}

// Seeing inside the model: all activations + Grad-CAM for one test-dev image (warm).
if (files.length && (!only || only.includes('wasm'))) {
  const ref = await openExplainModel('default');
  const image = files[0];
  await layerActivations(ref, image);
  await gradCam(ref, image);
  const t0 = performance.now();
  const n = 5;
  for (let i = 0; i < n; i++) {
    await layerActivations(ref, image);
    await gradCam(ref, image);
  }
  rows.push({ backend: 'wasm', bench: 'all activations + Grad-CAM', batch: 1, images: n, seconds: (performance.now() - t0) / 1000, gflop: 0 });

  // The same for a 224×224 MobileNetV2-based model (the backbone that ships in nsfwjs + our head).
  const tm = await buildTransferModel({ base: 'mobilenetv2', inputSize: 224, resize: 'crop', seed: 1 });
  const mref = { model: tm.model, metadata: { id: 'mobilenetv2-bench', input: tm.input, classNames: ['NORMAL', 'PNEUMONIA'], positiveClass: 'PNEUMONIA', output: 'sigmoid' as const, threshold: 0.5 } };
  await layerActivations(mref, image);
  await gradCam(mref, image);
  const t1 = performance.now();
  for (let i = 0; i < 3; i++) {
    await layerActivations(mref, image);
    await gradCam(mref, image);
  }
  rows.push({ backend: 'wasm', bench: 'all activations + Grad-CAM, MobileNetV2 224', batch: 1, images: 3, seconds: (performance.now() - t1) / 1000, gflop: 0 });
  tm.model.dispose();
}

const ips = (r: Row) => r.images / r.seconds;
const peer = (r: Row, backend: string) => rows.find((c) => c.backend === backend && c.bench === r.bench && c.batch === r.batch);
const ratio = (r: Row, backend: string) => {
  const c = peer(r, backend);
  return c ? (ips(r) / ips(c)).toFixed(2) : 'n/a';
};
const lines = [
  `model ${md.id} v${md.version}, ${(flopsPerImage(await loadStoredModel(stored)) / 1e9).toFixed(3)} GFLOP/image; ${os.availableParallelism()} cores; ${new Date().toISOString()}`,
  '',
  '| engine/backend | benchmark | batch | images/s | ms/image | GFLOP/s | × onnxruntime (yardstick) | × tfjs cpu |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.backend} | ${r.bench} | ${r.batch || '–'} | ${ips(r).toFixed(1)} | ${(1000 / ips(r)).toFixed(2)} | ${r.gflop ? (r.gflop / r.seconds).toFixed(1) : '–'} | ${ratio(r, 'onnxruntime')} | ${ratio(r, 'cpu')} |`),
  '',
  'Ratios compare images/s with onnxruntime-node (the fastest CPU runtime here, the yardstick) and with the pure-JavaScript tfjs `cpu` backend, measured in this same run on the same network.',
  'Training-step GFLOP/s counts forward + backward as 3× the forward FLOPs. "all activations + Grad-CAM" is one image, end to end (decode included); its ms/image column is the time per image.',
  'Classify rows include reading, hashing, decoding and resizing the full-resolution test-dev JPEGs with sharp; "decode only" is that part alone.',
];
console.log('\n' + lines.join('\n'));
await writeFileAtomic(path.join('bench', 'results.md'), `# npm run bench\n\n${lines.join('\n')}\n`);
console.log('\n(also written to bench/results.md)');
