// A model worker thread (started through bootstrap.mjs): holds its own tfjs engine and a copy of the model,
// computes gradients or predictions for its share of a batch. See protocol.ts for the messages.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../engine/backend.ts';
import { layoutOf, weightView, type FromWorker, type InitMessage, type ToWorker, type WeightLayout } from './protocol.ts';
import { microBatchGradients, variablesAt } from './share-loss.ts';
import { keepBatchNormInInference } from '../batch-norm-mode.ts';
import { dropoutLayers, reseedDropout } from '../dropout-seed.ts';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');

let init: InitMessage | null = null;
let model: tfl.LayersModel | null = null;
let layout: WeightLayout | null = null;
let vars: tf.Variable[] = [];
let loadedVersion = -1;

function post(m: FromWorker): void {
  port!.postMessage(m);
}

function loadWeights(version: number): void {
  if (version === loadedVersion) return;
  const ts = layout!.shapes.map((s, i) => tf.tensor(weightView(init!.weights, layout!, i), s, 'float32'));
  model!.setWeights(ts);
  tf.dispose(ts);
  loadedVersion = version;
}

async function onInit(m: InitMessage): Promise<void> {
  const engine = await initEngine({ backend: m.backend, chosenBy: 'model worker' });
  init = m;
  layout = layoutOf(m.shapes);
  model = await tfl.models.modelFromJSON({ modelTopology: m.topology } as never);
  const got = model.weights.map((w) => w.shape.join('x')).join(',');
  const want = m.shapes.map((s) => s.join('x')).join(',');
  if (got !== want) throw new Error(`model worker: rebuilt model has weights ${got}, expected ${want}`);
  keepBatchNormInInference(model, m.batchNormsInInference);
  vars = variablesAt(model, m.trainable);
  post({ type: 'ready', detail: `${engine.backend}${engine.simd ? ' SIMD' : ''}` });
}

async function onGrad(m: Extract<ToWorker, { type: 'grad' }>): Promise<void> {
  const t0 = performance.now();
  const { sampleSize, inputs, result } = init!;
  const [h, w, c] = model!.inputs[0].shape.slice(1) as number[];
  loadWeights(m.version);
  if (m.dropoutSeed != null) reseedDropout(dropoutLayers(model!), m.dropoutSeed);
  const share = inputs.subarray(m.start * sampleSize, m.end * sampleSize);
  const { loss, grads } = await microBatchGradients(model!, vars, share, [h, w, c], m.labels, m.sampleWeights, init!.micro, () => {
    if (Atomics.load(init!.cancelFlag, 0) !== 0) throw new Error('training share cancelled');
  });
  grads.forEach((g, k) => {
    if (g) weightView(result, layout!, init!.trainable[k]).set(g.dataSync());
  });
  tf.dispose(grads.filter((g): g is tf.Tensor => g != null));
  // BatchNorm moving statistics after this share's update (the main thread averages them).
  for (const i of init!.moving) weightView(result, layout!, i).set(model!.weights[i].read().dataSync());
  // This model's moving statistics now differ from the shared weights: reload them next time.
  if (init!.moving.length) loadedVersion = -1;
  post({ type: 'done', id: m.id, loss, hasGrad: grads.map((g) => g != null), ms: performance.now() - t0 });
}

function onPredict(m: Extract<ToWorker, { type: 'predict' }>): void {
  const { sampleSize, inputs, outputs, outSize } = init!;
  const [h, w, c] = model!.inputs[0].shape.slice(1) as number[];
  loadWeights(m.version);
  const n = m.end - m.start;
  const p = tf.tidy(() => {
    const x = tf.tensor4d(inputs.subarray(m.start * sampleSize, m.end * sampleSize), [n, h, w, c]);
    return (model!.predict(x) as tf.Tensor).dataSync();
  });
  outputs.set(p, m.start * outSize);
  post({ type: 'predicted', id: m.id });
}

port.on('message', (m: ToWorker) => {
  const id = m.type === 'init' ? null : m.id;
  const fail = (e: unknown) => post({ type: 'error', id, message: (e as Error).message ?? String(e), stack: (e as Error).stack });
  try {
    if (m.type === 'init') onInit(m).catch(fail);
    else if (m.type === 'grad') onGrad(m).catch(fail);
    else onPredict(m);
  } catch (e) {
    fail(e);
  }
});
