/**
 * Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018) for sigmoid and
 * softmax heads. The model is split at the explained layer: one forward pass of a head model
 * gives that layer's output A (and the prediction), then `tf.grad` of the class score through the
 * tail model (the rest of the graph, fed A) gives dScore/dA.
 *
 * The score is the head's logit: the output layer's sigmoid/softmax is swapped for identity while
 * the gradient is taken (synchronously, restored in `finally`), because a saturated sigmoid
 * (P ≈ 1 in float32) has a zero gradient. For a sigmoid head the positive class scores +logit and
 * the other class −logit (the gradient of 1 − P has the opposite sign of that of P). Where the head
 * has no activation we can swap (e.g. it sits inside a nested model), the probability is used.
 * Grad-CAM: channel weights = mean gradient over h×w; cam = ReLU(Σ_k w_k A_k).
 * Grad-CAM++: w_k = Σ_ij α_ij ReLU(g_ij), α = g² / (2g² + Σ_ab A_ab · g³).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { CamMethod, GradCamResult } from '../../../src-shared/explain-types.ts';
import { prepareImage, positiveProbability, predictedIndex, type ExplainModel, type ImageSource } from './explain-model.ts';
import type { KeptActivation } from './activations.ts';
import { derivedModel, isConv, isSpatial, modelGraph, tailModel, type GraphLayer } from './graph.ts';

/** Which layer, class and method to explain. */
export interface GradCamOptions {
  /** Layer name; default the last convolution layer. */
  layer?: string;
  /** 'predicted' (default), a class name, or a class index. */
  targetClass?: 'predicted' | string | number;
  method?: CamMethod;
}

type Activation = { getClassName(): string; apply(x: tf.Tensor): tf.Tensor };
const IDENTITY: Activation = { getClassName: () => 'linear', apply: (x) => x };

/** The layer Grad-CAM explains by default: the last convolution layer with a spatial output. */
export function defaultCamLayer(ref: ExplainModel): string {
  const layers = modelGraph(ref.model).layers;
  const conv = layers.filter(isConv);
  if (conv.length === 0) {
    throw new Error(`model "${ref.metadata.id}" has no convolution layer with a spatial output (layers: ${layers.map((l) => `${l.name} ${l.className}`).join(', ')}); Grad-CAM needs one, or name a layer with a [h, w, c] output`);
  }
  return conv[conv.length - 1].name;
}

function findLayer(ref: ExplainModel, name: string): GraphLayer {
  const layers = modelGraph(ref.model).layers;
  const hit = layers.find((l) => l.name === name) ?? layers.find((l) => l.name.endsWith(`/${name}`));
  const spatial = layers.filter(isSpatial).map((l) => l.name).join(', ');
  if (!hit) throw new Error(`model "${ref.metadata.id}" has no layer "${name}"; layers with spatial maps: ${spatial || 'none'}`);
  if (!isSpatial(hit)) throw new Error(`layer "${name}" of model "${ref.metadata.id}" outputs [${hit.shape.join(', ')}], not a spatial map; Grad-CAM needs one of: ${spatial || 'none'}`);
  return hit;
}

/** The layer Grad-CAM will explain: `name` (checked: it must have a spatial output) or the default. */
export function resolveCamLayer(ref: ExplainModel, name?: string): string {
  return findLayer(ref, name ?? defaultCamLayer(ref)).name;
}

function targetIndexOf(ref: ExplainModel, target: GradCamOptions['targetClass'], row: ArrayLike<number>): number {
  const names = ref.metadata.classNames;
  if (target === undefined || target === 'predicted') return predictedIndex(row, ref.metadata);
  const idx = typeof target === 'number' ? target : names.indexOf(target);
  if (!Number.isInteger(idx) || idx < 0 || idx >= names.length) {
    throw new Error(`class "${target}" is not one of model "${ref.metadata.id}"'s classes (${names.join(', ')})`);
  }
  return idx;
}

/** The output layer whose activation can be swapped for identity, if any. */
function headLayer(model: tfl.LayersModel): { holder: { activation?: Activation }; kind: string } | null {
  const g = modelGraph(model);
  const out = g.layers.find((l) => l.output === g.outputs[0]);
  const holder = out?.layer as unknown as { activation?: Activation } | undefined;
  const kind = holder?.activation?.getClassName?.();
  return holder && (kind === 'sigmoid' || kind === 'softmax') ? { holder, kind } : null;
}

/**
 * Grad-CAM heatmap of `image` for the predicted class (or `opts.targetClass`) at the last
 * convolution layer (or `opts.layer`), as plain data at the layer's resolution. `from`, that layer's
 * output and the prediction from an activations pass of the same image, saves the forward pass.
 */
export async function gradCam(ref: ExplainModel, image: ImageSource, opts: GradCamOptions = {}, from?: KeptActivation): Promise<GradCamResult> {
  const t0 = performance.now();
  const md = ref.metadata;
  const layer = findLayer(ref, opts.layer ?? defaultCamLayer(ref));
  if (from && (from.layer !== layer.name || from.activation.shape.slice(1).join() !== layer.shape.join())) {
    throw new Error(`internal: an activation of ${from.layer} [${from.activation.shape.join(', ')}] was given for Grad-CAM at ${layer.name}`);
  }
  const method = opts.method ?? 'gradcam';
  const prepared = await prepareImage(image, md.input);
  const g = modelGraph(ref.model);
  const head = from ? null : derivedModel(ref.model, `head:${layer.name}`, () => tfl.model({ inputs: ref.model.inputs, outputs: [layer.output, ...g.outputs] }));
  const tail = tailModel(ref.model, layer.name);
  const swap = headLayer(ref.model);
  const { height, width, channels } = md.input;
  const [h, w, c] = layer.shape;
  let row: Float32Array = new Float32Array(0);
  let targetIndex = 0;
  const cam = tf.tidy(() => {
    const x = tf.tensor4d(prepared.data, [1, height, width, channels]);
    // The layer's output and the prediction: from an activations pass of the same image, or a forward pass here.
    let act: tf.Tensor;
    if (!head) {
      act = from!.activation;
      row = from!.row;
    } else {
      const [a, y] = head.predict(x) as tf.Tensor[];
      act = a;
      row = y.dataSync() as Float32Array;
    }
    targetIndex = targetIndexOf(ref, opts.targetClass, row);
    const sigmoid = row.length === 1;
    const sign = sigmoid && targetIndex !== md.classNames.indexOf(md.positiveClass) ? -1 : 1;
    // A one-hot product rather than tf.gather: gather's gradient needs UnsortedSegmentSum, which wasm lacks.
    const pick = tf.tensor2d(Array.from(row, (_, i) => (i === (sigmoid ? 0 : targetIndex) ? sign : 0)), [1, row.length]);
    const score = (a: tf.Tensor): tf.Scalar => {
      const out = tail.model.apply(tail.needsOriginal ? [x, a] : a, { training: false }) as tf.Tensor;
      return tf.sum(tf.mul(out, pick));
    };
    let grads: tf.Tensor;
    const saved = swap?.holder.activation;
    try {
      if (swap) swap.holder.activation = IDENTITY;
      grads = tf.grad(score)(act);
    } finally {
      if (swap) swap.holder.activation = saved;
    }
    let weights: tf.Tensor;
    if (method === 'gradcam') {
      weights = tf.mean(grads, [1, 2]);
    } else {
      const g2 = tf.square(grads);
      const g3 = tf.mul(g2, grads);
      const denom = tf.add(tf.mul(g2, 2), tf.mul(tf.sum(act, [1, 2], true), g3));
      const safe = tf.where(tf.notEqual(denom, 0), denom, tf.onesLike(denom));
      weights = tf.sum(tf.mul(tf.div(g2, safe), tf.relu(grads)), [1, 2]);
    }
    return tf.reshape(tf.relu(tf.sum(tf.mul(act, tf.reshape(weights, [1, 1, 1, c])), -1)), [h * w]);
  });
  const values = (await cam.data()) as Float32Array;
  cam.dispose();
  let camMax = 0;
  for (const v of values) if (v > camMax) camMax = v;
  const norm = new Float32Array(values.length);
  if (camMax > 0) for (let i = 0; i < values.length; i++) norm[i] = values[i] / camMax;
  const probability = positiveProbability(row, md);
  const pos = md.classNames.indexOf(md.positiveClass);
  const targetProbability = row.length === 1 ? (targetIndex === pos ? row[0] : 1 - row[0]) : row[targetIndex];
  return {
    modelId: md.id,
    method,
    layer: layer.name,
    layerShape: [h, w, c],
    targetClass: md.classNames[targetIndex],
    targetIndex,
    targetProbability,
    score: swap ? 'logit' : 'probability',
    probability,
    label: md.classNames[predictedIndex(row, md)],
    width: w,
    height: h,
    cam: norm,
    camMax,
    image: { width: prepared.originalWidth, height: prepared.originalHeight },
    input: { width, height, resize: md.input.resize },
    milliseconds: performance.now() - t0,
  };
}
