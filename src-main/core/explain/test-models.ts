// Small models with known structure for the explain tests.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ExplainModel } from './explain-model.ts';

const binary = { classNames: ['NORMAL', 'PNEUMONIA'], positiveClass: 'PNEUMONIA', threshold: 0.5 };

/** Metadata for a model with an n×n×1 input (stretch, /255). */
export function testMetadata(id: string, n: number, output: 'sigmoid' | 'softmax' = 'sigmoid'): ExplainModel['metadata'] {
  return { id, input: { height: n, width: n, channels: 1, resize: 'stretch', scaling: 'scale255' }, output, ...binary };
}

/** A Functional model with a skip connection: conv_a → conv_b → add(conv_a, conv_b) → conv_c → pool → dense. */
export function skipModel(n = 32): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const x = tfl.input({ shape: [n, n, 1], name: 'image' });
  const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv_a' }).apply(x) as tfl.SymbolicTensor;
  const b = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'conv_b' }).apply(a) as tfl.SymbolicTensor;
  const s = tfl.layers.add({ name: 'skip_add' }).apply([a, b]) as tfl.SymbolicTensor;
  const c = tfl.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', kernelInitializer: init(3), name: 'conv_c' }).apply(s) as tfl.SymbolicTensor;
  const p = tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(c) as tfl.SymbolicTensor;
  const f = tfl.layers.flatten({ name: 'flat' }).apply(p) as tfl.SymbolicTensor;
  const y = tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(4), name: 'out' }).apply(f) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: y, name: 'skip_model' });
}

/** A Functional model whose first block is a nested Sequential ("base"). */
export function nestedModel(n = 32): { model: tfl.LayersModel; base: tfl.Sequential } {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const base = tfl.sequential({ name: 'base' });
  base.add(tfl.layers.conv2d({ inputShape: [n, n, 1], filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: init(5), name: 'base_conv1' }));
  base.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'base_pool' }));
  base.add(tfl.layers.conv2d({ filters: 5, kernelSize: 3, activation: 'relu', kernelInitializer: init(6), name: 'base_conv2' }));
  const x = tfl.input({ shape: [n, n, 1], name: 'image' });
  const feat = base.apply(x) as tfl.SymbolicTensor;
  const c = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(7), name: 'top_conv' }).apply(feat) as tfl.SymbolicTensor;
  const g = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(c) as tfl.SymbolicTensor;
  const y = tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(8), name: 'out' }).apply(g) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: x, outputs: y, name: 'nested_model' }), base };
}

/**
 * A model whose score depends only on the top-left quadrant: a 1×1 conv "feat" with channel 0 =
 * ReLU(x − 0.5) (bright) and channel 1 = ReLU(0.5 − x) (dark), then a dense head that sums channel
 * 0 over the top-left quadrant only. Sigmoid (1 unit) or softmax (2 units, logits [0, z]).
 */
export function quadrantModel(n: number, head: 'sigmoid' | 'softmax'): tfl.LayersModel {
  const m = tfl.sequential({ name: `quadrant_${head}` });
  m.add(tfl.layers.conv2d({ inputShape: [n, n, 1], filters: 2, kernelSize: 1, activation: 'relu', name: 'feat', weights: [tf.tensor4d([1, -1], [1, 1, 1, 2]), tf.tensor1d([-0.5, 0.5])] }));
  m.add(tfl.layers.flatten({ name: 'flat' }));
  const units = head === 'sigmoid' ? 1 : 2;
  const k = new Float32Array(n * n * 2 * units);
  for (let y = 0; y < n / 2; y++) for (let x = 0; x < n / 2; x++) k[((y * n + x) * 2 + 0) * units + (units - 1)] = 1;
  m.add(tfl.layers.dense({ units, activation: head, name: 'out', weights: [tf.tensor2d(k, [n * n * 2, units]), tf.zeros([units])] }));
  return m;
}

/** An n×n image (values 0–1) bright (0.6–1) in the top-left quadrant and dark (0–0.4) elsewhere. */
export function quadrantImage(n: number, seed = 7): Float32Array {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = new Float32Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) out[y * n + x] = y < n / 2 && x < n / 2 ? 0.6 + 0.4 * rnd() : 0.4 * rnd();
  return out;
}
