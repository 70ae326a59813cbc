// Small models for the ONNX parity tests: every layer class the converter handles, in Functional
// graphs with skip connections, concatenation and a nested Sequential.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { InputSpec } from '../../../src-shared/types.ts';
import { InferenceIdentity, Normalization, SpatialDropout2D } from '../interchange/custom-layers.ts';

type ST = tfl.SymbolicTensor;

/** The input spec of an n×n image with `channels` channels scaled to [0, 1]. */
export function spec(n: number, channels: 1 | 3): InputSpec {
  return { height: n, width: n, channels, resize: 'stretch', scaling: 'scale255' };
}

/** Gives every BatchNormalization layer non-trivial statistics (as after training). */
export function randomizeBatchNorm(model: tfl.LayersModel, seed = 11): void {
  for (const layer of model.layers) {
    if (layer instanceof tfl.LayersModel) randomizeBatchNorm(layer, seed + 1);
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const ws = layer.getWeights().map((w, i) => {
      const isVar = /moving_variance$/.test(layer.weights[i].originalName);
      const t = tf.randomUniform(w.shape, isVar ? 0.2 : -0.5, isVar ? 2 : 0.5, 'float32', seed + i);
      return /gamma$/.test(layer.weights[i].originalName) ? tf.add(t, 1) : t;
    });
    layer.setWeights(ws);
  }
}

/**
 * A Functional model 48×48×3: stride-2 SAME conv (asymmetric padding), depthwise (multiplier 2) and
 * dilated branches joined by Add, a nested Sequential, Concatenate, ZeroPadding2D, SAME average and max
 * pooling, BatchNormalization, LeakyReLU/ELU/ReLU6, Flatten, Dense on a rank-3 tensor via Reshape, softmax.
 */
export function functionalModel(): tfl.LayersModel {
  let seed = 21;
  const k = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const x = tfl.input({ shape: [48, 48, 3], name: 'image' });
  const r = tfl.layers.rescaling({ scale: 2, offset: -1, name: 'rescale' }).apply(x) as ST;
  const c1 = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: k(), biasInitializer: 'randomNormal', name: 'c1' }).apply(r) as ST;
  const dw = tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', depthwiseInitializer: k(), name: 'dw' }).apply(c1) as ST;
  const a = tfl.layers.conv2d({ filters: 16, kernelSize: 1, kernelInitializer: k(), name: 'a' }).apply(dw) as ST;
  const b = tfl.layers.conv2d({ filters: 16, kernelSize: 4, dilationRate: 2, padding: 'same', activation: 'tanh', kernelInitializer: k(), name: 'b' }).apply(c1) as ST;
  const add = tfl.layers.add({ name: 'skip_add' }).apply([a, b]) as ST;
  const inner = tfl.sequential({ name: 'inner' });
  inner.add(tfl.layers.conv2d({ inputShape: [24, 24, 16], filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: k(), name: 'inner_conv' }));
  inner.add(tfl.layers.batchNormalization({ name: 'inner_bn' }));
  inner.add(tfl.layers.reLU({ maxValue: 6, name: 'inner_relu6' }));
  const n = inner.apply(add) as ST;
  const cat = tfl.layers.concatenate({ axis: -1, name: 'cat' }).apply([add, n]) as ST;
  const pad = tfl.layers.zeroPadding2d({ padding: [[1, 2], [0, 1]], name: 'pad' }).apply(cat) as ST;
  const avg = tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg' }).apply(pad) as ST;
  const mx = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'max' }).apply(avg) as ST;
  const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(mx) as ST;
  const lr = tfl.layers.leakyReLU({ alpha: 0.1, name: 'leaky' }).apply(bn) as ST;
  const el = tfl.layers.activation({ activation: 'elu', name: 'elu' }).apply(lr) as ST;
  const f = tfl.layers.flatten({ name: 'flat' }).apply(el) as ST;
  const d1 = tfl.layers.dense({ units: 12, activation: 'sigmoid', kernelInitializer: k(), name: 'd1' }).apply(f) as ST;
  const rs = tfl.layers.reshape({ targetShape: [3, 4], name: 'reshape' }).apply(d1) as ST;
  const d2 = tfl.layers.dense({ units: 5, kernelInitializer: k(), name: 'd2' }).apply(rs) as ST;
  const f2 = tfl.layers.flatten({ name: 'flat2' }).apply(d2) as ST;
  const y = tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: k(), name: 'out' }).apply(f2) as ST;
  const model = tfl.model({ inputs: x, outputs: y, name: 'functional_onnx' });
  randomizeBatchNorm(model);
  return model;
}

/**
 * A Sequential 40×40×1 like an imported Keras model: Normalization, InferenceIdentity, separable conv
 * with stride, SpatialDropout2D, valid average pooling, global max pooling, BatchNormalization on a
 * rank-2 tensor, Dropout, sigmoid head.
 */
export function importedStyleModel(): tfl.LayersModel {
  let seed = 41;
  const k = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const m = tfl.sequential({ name: 'imported_style' });
  m.add(new Normalization({ inputShape: [40, 40, 1], axis: -1, mean: 0.45, variance: 0.06, name: 'norm' }));
  m.add(new InferenceIdentity({ sourceClass: 'RandomFlip', name: 'flip' }));
  m.add(tfl.layers.separableConv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', depthwiseInitializer: k(), pointwiseInitializer: k(), biasInitializer: 'randomNormal', name: 'sep' }));
  m.add(new SpatialDropout2D({ rate: 0.2, name: 'sdrop' }));
  m.add(tfl.layers.averagePooling2d({ poolSize: 2, name: 'avg' }));
  m.add(tfl.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'selu', kernelInitializer: k(), name: 'conv' }));
  m.add(tfl.layers.globalMaxPooling2d({ name: 'gmp' }));
  m.add(tfl.layers.batchNormalization({ name: 'bn_flat' }));
  m.add(tfl.layers.dropout({ rate: 0.5, name: 'drop' }));
  m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: k(), name: 'out' }));
  randomizeBatchNorm(m);
  return m;
}
