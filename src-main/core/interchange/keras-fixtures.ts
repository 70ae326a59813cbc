// Test support: a small Functional Keras model (nested Sequential, Rescaling, RandomFlip/Rotation/Zoom,
// Add) written as Keras 2 and Keras 3 configs exactly as Keras serialises them, plus a tfjs reference
// built independently with the tfjs-layers API and its weights in both Keras layouts.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Keras2LayerWeights, WeightArray } from './keras-writer.ts';

type Json = Record<string, unknown>;
interface Spec { cls: string; name: string; cfg: Json; inputs: string[] }

const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const init = (cls: string) => ({ module: 'keras.initializers', class_name: cls, config: { seed: null }, registered_name: null });

function entry(s: Spec, v: 2 | 3, top: boolean): Json {
  const cfg: Json = { name: s.name, trainable: true, dtype: v === 3 ? policy : 'float32', ...s.cfg };
  if (s.cls === 'InputLayer') {
    delete cfg.trainable;
    if (v === 3) { cfg.batch_shape = cfg.batch_input_shape; delete cfg.batch_input_shape; cfg.dtype = 'float32'; }
  }
  const e: Json = v === 3 ? { module: 'keras.layers', class_name: s.cls, config: cfg, registered_name: null } : { class_name: s.cls, config: cfg };
  if (!top) return e;
  e.name = s.name;
  const hist = (n: string) => ({ class_name: '__keras_tensor__', config: { shape: [null], dtype: 'float32', keras_history: [n, 0, 0] } });
  if (!s.inputs.length) e.inbound_nodes = [];
  else if (v === 2) e.inbound_nodes = [s.inputs.map((n) => [n, 0, 0, {}])];
  else e.inbound_nodes = [{ args: s.inputs.length > 1 ? [s.inputs.map(hist)] : [hist(s.inputs[0])], kwargs: s.cls === 'Sequential' ? { training: false } : {} }];
  return e;
}

const conv = (name: string, filters: number, k: number, act: string) => ({
  filters, kernel_size: [k, k], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1,
  activation: act, use_bias: true, kernel_initializer: init('GlorotUniform'), bias_initializer: init('Zeros'),
  kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null, name,
});

/** The Keras config of the fixture model, as Keras 2.15 (`model_config`) or Keras 3 (`config.json`) writes it. */
export function fixtureKerasConfig(v: 2 | 3, extra?: Spec): Json {
  const inner: Spec[] = [
    { cls: 'InputLayer', name: 'features_input', cfg: { batch_input_shape: [null, 32, 32, 3], sparse: false }, inputs: [] },
    { cls: 'Conv2D', name: 'conv_a', cfg: conv('conv_a', 4, 3, 'relu'), inputs: [] },
    { cls: 'BatchNormalization', name: 'bn_a', cfg: { axis: v === 2 ? [3] : -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true }, inputs: [] },
    { cls: 'MaxPooling2D', name: 'pool_a', cfg: { pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' }, inputs: [] },
  ];
  const seqCfg = { name: 'features', layers: inner.map((s) => entry(s, v, false)) };
  const layers: Spec[] = [
    { cls: 'InputLayer', name: 'image', cfg: { batch_input_shape: [null, 32, 32, 3], sparse: false }, inputs: [] },
    { cls: 'RandomFlip', name: 'flip', cfg: { mode: 'horizontal', seed: 1 }, inputs: ['image'] },
    { cls: 'RandomRotation', name: 'rotate', cfg: { factor: 0.05, fill_mode: 'reflect', interpolation: 'bilinear', seed: 2, fill_value: 0 }, inputs: ['flip'] },
    { cls: 'RandomZoom', name: 'zoom', cfg: { height_factor: 0.1, width_factor: null, fill_mode: 'reflect', interpolation: 'bilinear', seed: 3, fill_value: 0 }, inputs: ['rotate'] },
    { cls: 'Rescaling', name: 'rescale', cfg: { scale: 1 / 255, offset: 0 }, inputs: ['zoom'] },
    { cls: 'Sequential', name: 'features', cfg: {}, inputs: ['rescale'] },
    { cls: 'Conv2D', name: 'conv_b', cfg: conv('conv_b', 4, 1, 'linear'), inputs: ['features'] },
    { cls: 'Add', name: 'add', cfg: {}, inputs: ['features', 'conv_b'] },
    { cls: 'GlobalAveragePooling2D', name: 'gap', cfg: { data_format: 'channels_last', keepdims: false }, inputs: ['add'] },
    ...(extra ? [extra] : []),
    { cls: 'Dense', name: 'head', cfg: { units: 1, activation: 'sigmoid', use_bias: true, kernel_initializer: init('GlorotUniform'), bias_initializer: init('Zeros') }, inputs: [extra ? extra.name : 'gap'] },
  ];
  const entries = layers.map((s) => {
    const e = entry(s, v, true);
    if (s.cls === 'Sequential') e.config = v === 3 ? { ...seqCfg, trainable: true, dtype: policy } : seqCfg;
    return e;
  });
  const cfg = { name: 'fixture', trainable: true, layers: entries, input_layers: v === 3 ? ['image', 0, 0] : [['image', 0, 0]], output_layers: v === 3 ? ['head', 0, 0] : [['head', 0, 0]] };
  return v === 3
    ? { module: 'keras.src.models.functional', class_name: 'Functional', config: cfg, registered_name: 'Functional', build_config: { input_shape: null }, compile_config: null }
    : { class_name: 'Functional', config: cfg };
}

/** The same model built directly with tfjs-layers (augmentation left out: identity at inference), random weights. */
export function fixtureReference(seed = 11): tfl.LayersModel {
  const inp = tfl.input({ shape: [32, 32, 3], name: 'image' });
  const r = tfl.layers.rescaling({ scale: 1 / 255, offset: 0, name: 'rescale' }).apply(inp) as tfl.SymbolicTensor;
  const seq = tfl.sequential({ name: 'features', layers: [
    tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [32, 32, 3], name: 'conv_a' }),
    tfl.layers.batchNormalization({ name: 'bn_a', axis: 3 }),
    tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool_a' }),
  ] });
  const f = seq.apply(r) as tfl.SymbolicTensor;
  const b = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'conv_b' }).apply(f) as tfl.SymbolicTensor;
  const s = tfl.layers.add({ name: 'add' }).apply([f, b]) as tfl.SymbolicTensor;
  const g = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(s) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 1, activation: 'sigmoid', name: 'head' }).apply(g) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: inp, outputs: out, name: 'fixture' });
  let k = seed;
  for (const layer of [seq.getLayer('conv_a'), seq.getLayer('bn_a'), model.getLayer('conv_b'), model.getLayer('head')]) {
    layer.setWeights(layer.weights.map((w) => tf.randomUniform(w.shape as number[], w.originalName.endsWith('variance') ? 0.5 : -0.5, w.originalName.endsWith('variance') ? 1.5 : 0.5, 'float32', k++)));
  }
  return model;
}

const arr = (t: tf.Tensor): WeightArray => ({ shape: t.shape, data: t.dataSync() as Float32Array });

/** The reference's weights in Keras 2 `model_weights` layout. */
export function fixtureKeras2Weights(ref: tfl.LayersModel): Keras2LayerWeights[] {
  const seq = ref.getLayer('features') as tfl.LayersModel;
  const named = (l: tfl.layers.Layer, names: string[]) => names.map((n) => `${l.name}/${n}:0`);
  const [ca, bn, cb, hd] = [seq.getLayer('conv_a'), seq.getLayer('bn_a'), ref.getLayer('conv_b'), ref.getLayer('head')];
  const none = (layer: string): Keras2LayerWeights => ({ layer, names: [], arrays: [] });
  return [
    none('image'), none('flip'), none('rotate'), none('zoom'), none('rescale'),
    { layer: 'features', names: [...named(ca, ['kernel', 'bias']), ...named(bn, ['gamma', 'beta', 'moving_mean', 'moving_variance'])], arrays: [...ca.getWeights(), ...bn.getWeights()].map(arr) },
    { layer: 'conv_b', names: named(cb, ['kernel', 'bias']), arrays: cb.getWeights().map(arr) },
    none('add'), none('gap'),
    { layer: 'head', names: named(hd, ['kernel', 'bias']), arrays: hd.getWeights().map(arr) },
  ];
}

/** The reference's weights in Keras 3 `model.weights.h5` layout (class-name keys). */
export function fixtureKeras3Vars(ref: tfl.LayersModel): Record<string, WeightArray[]> {
  const seq = ref.getLayer('features') as tfl.LayersModel;
  return {
    'layers/sequential/layers/conv2d': seq.getLayer('conv_a').getWeights().map(arr),
    'layers/sequential/layers/batch_normalization': seq.getLayer('bn_a').getWeights().map(arr),
    'layers/conv2d': ref.getLayer('conv_b').getWeights().map(arr),
    'layers/dense': ref.getLayer('head').getWeights().map(arr),
  };
}
