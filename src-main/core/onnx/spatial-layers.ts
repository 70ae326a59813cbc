// Converters for layers that work on NHWC feature maps: convolutions (plain, depthwise, separable),
// batch normalisation, pooling, zero padding. Their ONNX ops run in NCHW.
import type { Value } from './graph-builder.ts';
import { permute } from './graph-builder.ts';
import {
  OnnxConversionError, activation, channelsLast, pair, weight, windowPads,
  type LayerContext, type LayerConverter,
} from './layer-context.ts';

type Attrs = Record<string, number | number[] | string>;

function windowAttrs(c: LayerContext, kernel: [number, number], strides: [number, number], dilations?: [number, number]): Attrs {
  const pads = windowPads(c, c.config.padding, kernel, strides, dilations);
  return { kernel_shape: kernel, strides, ...(dilations ? { dilations } : {}), ...(pads ? { pads } : { auto_pad: 'SAME_UPPER' }) };
}

function out(c: LayerContext, name: string): Value {
  return { name, layout: 'nchw', shape: c.outputShape };
}

function bias(c: LayerContext): string[] {
  if (c.config.useBias === false) return [];
  const b = weight(c, 'bias');
  return [c.g.floatConst(`${c.name}/bias`, [b.data.length], b.data)];
}

/** Depthwise kernel [kh, kw, cin, mult] → grouped-conv weight [cin·mult, 1, kh, kw] (TF's channel order c·mult + m). */
function depthwise(c: LayerContext, x: Value, kernelName: string, withBias: boolean): Value {
  const k = weight(c, kernelName);
  const [kh, kw, cin, mult] = k.shape;
  const p = permute(k.data, k.shape, [2, 3, 0, 1]);
  const w = c.g.floatConst(`${c.name}/${kernelName}`, [cin * mult, 1, kh, kw], p.data);
  const strides = pair(c.config.strides, 1);
  const dil = pair(c.config.dilationRate, 1);
  const attrs = { ...windowAttrs(c, [kh, kw], strides, dil), group: cin };
  return out(c, c.g.op('Conv', [x.name, w, ...(withBias ? bias(c) : [])], `${c.name}/depthwise`, attrs));
}

const conv2d: LayerConverter = (c) => {
  channelsLast(c);
  const x = c.g.as(c.inputs[0], 'nchw');
  const k = weight(c, 'kernel');
  const [kh, kw] = k.shape;
  const p = permute(k.data, k.shape, [3, 2, 0, 1]);
  const w = c.g.floatConst(`${c.name}/kernel`, p.dims, p.data);
  const attrs = { ...windowAttrs(c, [kh, kw], pair(c.config.strides, 1), pair(c.config.dilationRate, 1)), group: 1 };
  const y = out(c, c.g.op('Conv', [x.name, w, ...bias(c)], c.name, attrs));
  return activation(c, y, c.config.activation);
};

const depthwiseConv2d: LayerConverter = (c) => {
  channelsLast(c);
  const y = depthwise(c, c.g.as(c.inputs[0], 'nchw'), 'depthwise_kernel', true);
  return activation(c, y, c.config.activation);
};

const separableConv2d: LayerConverter = (c) => {
  channelsLast(c);
  const d = depthwise(c, c.g.as(c.inputs[0], 'nchw'), 'depthwise_kernel', false);
  const k = weight(c, 'pointwise_kernel');
  const p = permute(k.data, k.shape, [3, 2, 0, 1]);
  const w = c.g.floatConst(`${c.name}/pointwise_kernel`, p.dims, p.data);
  const y = out(c, c.g.op('Conv', [d.name, w, ...bias(c)], `${c.name}/pointwise`, { kernel_shape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], group: 1 }));
  return activation(c, y, c.config.activation);
};

const batchNormalization: LayerConverter = (c) => {
  const v = c.inputs[0];
  const rank = v.shape.length;
  const axes = Array.isArray(c.config.axis) ? (c.config.axis as number[]) : [Number(c.config.axis ?? -1)];
  const axis = axes.length === 1 ? (axes[0] < 0 ? axes[0] + rank : axes[0]) : -1;
  if (axis !== rank - 1) throw new OnnxConversionError(c.name, c.className, `normalisation over axis ${JSON.stringify(c.config.axis)} is not supported (only the channel axis, -1)`);
  const mean = weight(c, 'moving_mean');
  const variance = weight(c, 'moving_variance');
  const n = mean.data.length;
  const gamma = c.config.scale === false ? new Float32Array(n).fill(1) : weight(c, 'gamma').data;
  const beta = c.config.center === false ? new Float32Array(n) : weight(c, 'beta').data;
  const eps = Number(c.config.epsilon ?? 1e-3);
  const g = c.g;
  if (rank === 4 || rank === 2) {
    const x = rank === 4 ? g.as(v, 'nchw') : v;
    const ins = [x.name, g.floatConst(`${c.name}/gamma`, [n], gamma), g.floatConst(`${c.name}/beta`, [n], beta),
      g.floatConst(`${c.name}/moving_mean`, [n], mean.data), g.floatConst(`${c.name}/moving_variance`, [n], variance.data)];
    return { name: g.op('BatchNormalization', ins, c.name, { epsilon: { float: eps } }), layout: x.layout, shape: c.outputShape };
  }
  // Other ranks, channel last: y = x·s + t with s = γ/√(σ²+ε), t = β − μ·s.
  const s = new Float32Array(n);
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = gamma[i] / Math.sqrt(variance.data[i] + eps);
    t[i] = beta[i] - mean.data[i] * s[i];
  }
  const x = g.as(v, 'keras');
  const mul = g.op('Mul', [x.name, g.floatConst(`${c.name}/scale`, [n], s)], `${c.name}/scale`);
  return { name: g.op('Add', [mul, g.floatConst(`${c.name}/shift`, [n], t)], c.name), layout: 'keras', shape: c.outputShape };
};

function pool(op: 'MaxPool' | 'AveragePool'): LayerConverter {
  return (c) => {
    channelsLast(c);
    const x = c.g.as(c.inputs[0], 'nchw');
    const kernel = pair(c.config.poolSize, 2);
    const strides = c.config.strides == null ? kernel : pair(c.config.strides, 1);
    const attrs: Attrs = windowAttrs(c, kernel, strides);
    if (op === 'AveragePool') attrs.count_include_pad = 0; // TF averages over the real pixels only
    return out(c, c.g.op(op, [x.name], c.name, attrs));
  };
}

function globalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerConverter {
  return (c) => {
    channelsLast(c);
    if (c.config.keepDims) throw new OnnxConversionError(c.name, c.className, 'keepdims is not supported');
    const x = c.g.as(c.inputs[0], 'nchw');
    const pooled = c.g.op(op, [x.name], `${c.name}/pool`);
    return { name: c.g.op('Flatten', [pooled], c.name, { axis: 1 }), layout: 'keras', shape: c.outputShape };
  };
}

const zeroPadding2d: LayerConverter = (c) => {
  channelsLast(c);
  const p = c.config.padding as number | number[] | number[][];
  const [[t, b], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]] : Array.isArray(p[0]) ? (p as number[][]) : [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
  const x = c.g.as(c.inputs[0], 'nchw');
  const pads = c.g.int64Const(`${c.name}/pads`, [0, 0, t, l, 0, 0, b, r]);
  return out(c, c.g.op('Pad', [x.name, pads], c.name, { mode: 'constant' }));
};

/** Converters of the spatial layers, by tfjs class name. */
export const spatialConverters: Record<string, LayerConverter> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNormalization,
  MaxPooling2D: pool('MaxPool'),
  AveragePooling2D: pool('AveragePool'),
  GlobalAveragePooling2D: globalPool('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPool('GlobalMaxPool'),
  ZeroPadding2D: zeroPadding2d,
};
