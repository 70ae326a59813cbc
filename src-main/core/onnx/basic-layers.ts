// Converters for layers that are not spatial: Dense, Flatten, Reshape, activations, identities at
// inference, merges (Add, Concatenate …), Rescaling and our custom Normalization.
import type { Value } from './graph-builder.ts';
import { OnnxConversionError, activation, weight, type LayerContext, type LayerConverter } from './layer-context.ts';

function keras(c: LayerContext, name: string): Value {
  return { name, layout: 'keras', shape: c.outputShape };
}

const dense: LayerConverter = (c) => {
  const x = c.g.as(c.inputs[0], 'keras');
  const k = weight(c, 'kernel');
  const w = c.g.floatConst(`${c.name}/kernel`, k.shape, k.data);
  const b = c.config.useBias === false ? null : weight(c, 'bias');
  const bias = b ? c.g.floatConst(`${c.name}/bias`, [b.data.length], b.data) : null;
  let y: string;
  if (x.shape.length === 2 && bias) y = c.g.op('Gemm', [x.name, w, bias], c.name);
  else {
    y = c.g.op('MatMul', [x.name, w], bias ? `${c.name}/matmul` : c.name);
    if (bias) y = c.g.op('Add', [y, bias], c.name);
  }
  return activation(c, keras(c, y), c.config.activation);
};

// Keras flattens in NHWC order, so an NCHW feature map goes back to NHWC first (Dense weights match).
const flatten: LayerConverter = (c) => keras(c, c.g.op('Flatten', [c.g.as(c.inputs[0], 'keras').name], c.name, { axis: 1 }));

const reshape: LayerConverter = (c) => {
  const target = c.config.targetShape as number[];
  const shape = c.g.int64Const(`${c.name}/shape`, [0, ...target]);
  return keras(c, c.g.op('Reshape', [c.g.as(c.inputs[0], 'keras').name, shape], c.name));
};

const identity: LayerConverter = (c) => c.inputs[0];

const activationLayer: LayerConverter = (c) => activation(c, c.inputs[0], c.config.activation);

const relu: LayerConverter = (c) => {
  const v = c.inputs[0];
  const max = c.config.maxValue;
  if (max == null) return { ...v, name: c.g.op('Relu', [v.name], c.name) };
  const lo = c.g.floatConst(`${c.name}/min`, [], [0]);
  const hi = c.g.floatConst(`${c.name}/max`, [], [Number(max)]);
  return { ...v, name: c.g.op('Clip', [v.name, lo, hi], c.name) };
};

const leakyRelu: LayerConverter = (c) => {
  const v = c.inputs[0];
  return { ...v, name: c.g.op('LeakyRelu', [v.name], c.name, { alpha: { float: Number(c.config.alpha ?? 0.3) } }) };
};

const elu: LayerConverter = (c) => {
  const v = c.inputs[0];
  return { ...v, name: c.g.op('Elu', [v.name], c.name, { alpha: { float: Number(c.config.alpha ?? 1) } }) };
};

/** Keras axis (of a rank-`rank` tensor, NHWC when 4-D) → the same axis in `v`'s layout. */
function mapAxis(axis: number, rank: number, v: Value): number {
  const a = axis < 0 ? axis + rank : axis;
  return v.layout === 'nchw' ? [0, 2, 3, 1][a] : a;
}

const softmax: LayerConverter = (c) => {
  const v = c.inputs[0];
  const axes = Array.isArray(c.config.axis) ? (c.config.axis as number[]) : [Number(c.config.axis ?? -1)];
  if (axes.length !== 1) throw new OnnxConversionError(c.name, c.className, 'softmax over several axes is not supported');
  return { ...v, name: c.g.op('Softmax', [v.name], c.name, { axis: mapAxis(axes[0], v.shape.length, v) }) };
};

/** Inputs in one layout: the common one when they agree, else Keras order. */
function sameLayout(c: LayerContext): Value[] {
  const first = c.inputs[0].layout;
  if (c.inputs.every((v) => v.layout === first)) return c.inputs;
  return c.inputs.map((v) => c.g.as(v, 'keras'));
}

function merge(op: string, variadic: boolean): LayerConverter {
  return (c) => {
    const ins = sameLayout(c);
    const layout = ins[0].layout;
    if (variadic || ins.length <= 2) return { name: c.g.op(op, ins.map((v) => v.name), c.name), layout, shape: c.outputShape };
    let acc = ins[0].name;
    for (let i = 1; i < ins.length; i++) acc = c.g.op(op, [acc, ins[i].name], i === ins.length - 1 ? c.name : `${c.name}/${i}`);
    return { name: acc, layout, shape: c.outputShape };
  };
}

const concatenate: LayerConverter = (c) => {
  const ins = sameLayout(c);
  const axis = mapAxis(Number(c.config.axis ?? -1), ins[0].shape.length, ins[0]);
  return { name: c.g.op('Concat', ins.map((v) => v.name), c.name, { axis }), layout: ins[0].layout, shape: c.outputShape };
};

const rescaling: LayerConverter = (c) => {
  const v = c.inputs[0];
  const { scale, offset } = c.config as { scale: unknown; offset: unknown };
  if (typeof scale !== 'number' || typeof (offset ?? 0) !== 'number') throw new OnnxConversionError(c.name, c.className, 'only scalar scale and offset are supported');
  let y = c.g.op('Mul', [v.name, c.g.floatConst(`${c.name}/scale`, [], [scale])], offset ? `${c.name}/scale` : c.name);
  if (offset) y = c.g.op('Add', [y, c.g.floatConst(`${c.name}/offset`, [], [offset as number])], c.name);
  return { ...v, name: y };
};

// Our custom Normalization: (x − mean) / max(√variance, 1e-7), or x·sd + mean with `invert`.
const normalization: LayerConverter = (c) => {
  const l = c.layer as unknown as { axis: number[]; fixedMean: number | number[] | null; fixedVariance: number | number[] | null; invert: boolean };
  const x = c.g.as(c.inputs[0], 'keras');
  const rank = x.shape.length;
  const keep = l.axis.map((d) => (d < 0 ? d + rank : d));
  const bshape = x.shape.map((s, i) => (keep.includes(i) ? Number(s) : 1));
  const values = (fixed: number | number[] | null, short: string): { data: Float32Array; dims: number[] } => {
    if (fixed == null) return { data: weight(c, short).data, dims: bshape };
    return Array.isArray(fixed) ? { data: Float32Array.from(fixed), dims: bshape } : { data: Float32Array.of(fixed), dims: [] };
  };
  const mean = values(l.fixedMean, 'mean');
  const variance = values(l.fixedVariance, 'variance');
  const sd = variance.data.map((v) => Math.max(Math.sqrt(v), 1e-7));
  const m = c.g.floatConst(`${c.name}/mean`, mean.dims, mean.data);
  const s = c.g.floatConst(`${c.name}/sd`, variance.dims, sd);
  if (l.invert) return keras(c, c.g.op('Add', [c.g.op('Mul', [x.name, s], `${c.name}/mul`), m], c.name));
  return keras(c, c.g.op('Div', [c.g.op('Sub', [x.name, m], `${c.name}/sub`), s], c.name));
};

/** Converters of the non-spatial layers, by tfjs class name. */
export const basicConverters: Record<string, LayerConverter> = {
  Dense: dense,
  Flatten: flatten,
  Reshape: reshape,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  InferenceIdentity: identity,
  Activation: activationLayer,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  ELU: elu,
  Softmax: softmax,
  Add: merge('Sum', true),
  Subtract: merge('Sub', false),
  Multiply: merge('Mul', false),
  Average: merge('Mean', true),
  Maximum: merge('Max', true),
  Minimum: merge('Min', true),
  Concatenate: concatenate,
  Rescaling: rescaling,
  Normalization: normalization,
};
