// What a layer converter gets, and helpers shared by the converters (activations, TF "same" padding).
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder, Value } from './graph-builder.ts';

/** A Keras shape including the batch dimension. */
export type Shape = Array<number | null>;

/** A weight of the layer, read from the model. */
export interface Weight {
  data: Float32Array;
  shape: number[];
}

/** Everything a converter needs about one call of a layer. */
export interface LayerContext {
  g: GraphBuilder;
  layer: tfl.layers.Layer;
  /** Unique name in the flattened graph ("outer/inner" inside nested models). */
  name: string;
  className: string;
  config: Record<string, unknown>;
  inputs: Value[];
  outputShape: Shape;
  /** Weights by their short name: kernel, bias, gamma, moving_mean, depthwise_kernel … */
  weights: Map<string, Weight>;
}

/** Converts one layer call; returns its (single) output value. */
export type LayerConverter = (c: LayerContext) => Value;

/** A model that cannot be converted: names the layer and its class. */
export class OnnxConversionError extends Error {
  constructor(readonly layerName: string, readonly className: string, why: string) {
    super(`layer "${layerName}" (${className}): ${why}`);
    this.name = 'OnnxConversionError';
  }
}

/** The weight called `short`, or an error naming the layer. */
export function weight(c: LayerContext, short: string): Weight {
  const w = c.weights.get(short);
  if (!w) throw new OnnxConversionError(c.name, c.className, `weight "${short}" not found (has ${[...c.weights.keys()].join(', ') || 'none'})`);
  return w;
}

/** A number pair from a Keras config value (an int or a list). */
export function pair(v: unknown, fallback: number): [number, number] {
  if (v == null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1] ?? a[0]];
}

/** TensorFlow's SAME padding for one spatial axis: [before, after] (the extra pixel goes after). */
export function samePads(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const effective = (kernel - 1) * dilation + 1;
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * ONNX pads [top, left, bottom, right] for a 2-D window op on an NHWC Keras input shape,
 * or null when the spatial size is unknown (then auto_pad SAME_UPPER gives the same result).
 */
export function windowPads(c: LayerContext, padding: unknown, kernel: [number, number], strides: [number, number], dilations: [number, number] = [1, 1]): number[] | null {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw new OnnxConversionError(c.name, c.className, `padding "${String(padding)}" is not supported`);
  const [, h, w] = c.inputs[0].shape;
  if (h == null || w == null) return null;
  const [t, b] = samePads(h, kernel[0], strides[0], dilations[0]);
  const [l, r] = samePads(w, kernel[1], strides[1], dilations[1]);
  return [t, l, b, r];
}

/** Refuses channels-first layers (our graphs are channels-last, like TensorFlow.js). */
export function channelsLast(c: LayerContext): void {
  const f = c.config.dataFormat;
  if (f != null && f !== 'channelsLast') throw new OnnxConversionError(c.name, c.className, `data format ${String(f)} is not supported (only channels_last)`);
}

/** Applies a Keras activation (by its tfjs class name) to `v`; 'linear' returns `v` unchanged. */
export function activation(c: LayerContext, v: Value, act: unknown, hint = c.name): Value {
  const a = act == null ? 'linear' : String(act);
  const g = c.g;
  const unary = (op: string, attrs?: Record<string, number | { float: number }>) => ({ ...v, name: g.op(op, [v.name], `${hint}/${a}`, attrs) });
  switch (a) {
    case 'linear': return v;
    case 'relu': return unary('Relu');
    case 'sigmoid': return unary('Sigmoid');
    case 'tanh': return unary('Tanh');
    case 'elu': return unary('Elu', { alpha: { float: 1 } });
    case 'selu': return unary('Selu');
    case 'softplus': return unary('Softplus');
    case 'softsign': return unary('Softsign');
    case 'exponential': return unary('Exp');
    case 'hardSigmoid': return unary('HardSigmoid', { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case 'relu6': return { ...v, name: g.op('Clip', [v.name, g.floatConst(`${hint}/min`, [], [0]), g.floatConst(`${hint}/max`, [], [6])], `${hint}/relu6`) };
    case 'swish': return { ...v, name: g.op('Mul', [v.name, g.op('Sigmoid', [v.name], `${hint}/swish_sigmoid`)], `${hint}/swish`) };
    case 'softmax': return { ...v, name: g.op('Softmax', [v.name], `${hint}/softmax`, { axis: v.layout === 'nchw' ? 1 : -1 }) };
    default: throw new OnnxConversionError(c.name, c.className, `activation "${a}" is not supported`);
  }
}
