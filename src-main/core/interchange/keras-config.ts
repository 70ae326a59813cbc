// Keras model config (Keras 2 `model_config` or Keras 3 `config.json`) → a tfjs-layers topology.
// Keras 3 differences handled: `batch_shape` (was `batch_input_shape`), `module`/`registered_name`
// wrappers, DTypePolicy objects, `{args, kwargs}` inbound nodes with `__keras_tensor__` history,
// un-nested single `input_layers`/`output_layers`, LeakyReLU `negative_slope`, `build_config`.
import * as tf from '@tensorflow/tfjs-core';
import './custom-layers.ts';

type Json = Record<string, unknown>;
type Entry = { class_name: string; config: Json; name?: string; inbound_nodes?: unknown; [k: string]: unknown };

/** Keras classes tfjs-layers 4.22 runs natively with the same config keys. */
const NATIVE = new Set([
  'InputLayer', 'Conv2D', 'SeparableConv2D', 'DepthwiseConv2D', 'Conv2DTranspose', 'Dense', 'BatchNormalization',
  'LayerNormalization', 'Dropout', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'MaxPooling2D', 'AveragePooling2D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten', 'Reshape', 'Permute', 'Activation', 'ReLU', 'LeakyReLU', 'PReLU',
  'ELU', 'Softmax', 'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'ZeroPadding2D', 'Cropping2D',
  'UpSampling2D', 'Rescaling', 'Normalization', 'SpatialDropout2D', 'Sequential', 'Functional', 'Model',
]);

/** Keras layers that do nothing at inference; imported as InferenceIdentity (kept, so summaries show them). */
export const IDENTITY_AT_INFERENCE = new Set([
  'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'RandomBrightness', 'ActivityRegularization',
]);

const ACTIVATIONS: Record<string, string> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', softmax: 'softmax', tanh: 'tanh', elu: 'elu', selu: 'selu',
  softplus: 'softplus', softsign: 'softsign', swish: 'swish', silu: 'swish', gelu: 'gelu', mish: 'mish',
  hard_sigmoid: 'hard_sigmoid', log_softmax: 'log_softmax',
};

/** Thrown for a layer the importer cannot convert; names the class, the layer and the file. */
export class UnsupportedLayerError extends Error {}

interface Ctx { rescaling: ConvertedConfig['rescaling']; kerasNodes: boolean }

/** What the conversion found, for metadata defaults and Keras 3 weight lookup. */
export interface ConvertedConfig {
  /** tfjs-layers model topology (pass to `tfl.models.modelFromJSON`). */
  topology: Json;
  /** Rescaling layers found (scale, offset), outermost first. */
  rescaling: Array<{ scale: number; offset: number }>;
}

function unwrapDtype(d: unknown): unknown {
  if (d && typeof d === 'object') {
    const name = String(((d as Json).config as Json | undefined)?.name ?? 'float32');
    return name.includes('float') ? 'float32' : name;
  }
  if (typeof d === 'string' && /float16|bfloat16|float64|mixed/.test(d)) return 'float32';
  return d;
}

function activationName(a: unknown, where: string): unknown {
  if (a == null) return a;
  let name: unknown = a;
  if (typeof a === 'object') name = (a as Json).config ?? (a as Json).class_name;
  if (typeof name !== 'string' || !ACTIVATIONS[name]) throw new UnsupportedLayerError(`${where}: activation ${JSON.stringify(name)} is not supported`);
  return ACTIVATIONS[name];
}

/** Strips Keras 3 `module`/`registered_name` wrappers; drops initializers tfjs does not know. */
function cleanObject(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cleanObject);
  if (!v || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    if (k === 'module' || k === 'registered_name' || k === 'build_config' || k === 'compile_config' || k === 'shared_object_id') continue;
    out[k] = cleanObject(x);
  }
  return out;
}

function tfjsKnows(className: string): boolean {
  const map = (tf.serialization as unknown as { SerializationMap: { getMap(): { classNameMap: Record<string, unknown> } } }).SerializationMap.getMap().classNameMap;
  return className in map;
}

function convertLayerConfig(cls: string, cfg: Json, where: string, found: Ctx): Json {
  const c: Json = { ...cfg };
  if ('dtype' in c) c.dtype = unwrapDtype(c.dtype);
  if ('batch_shape' in c) { c.batch_input_shape = c.batch_shape; delete c.batch_shape; }
  for (const k of Object.keys(c)) {
    if (k.endsWith('_regularizer') || k.endsWith('_constraint')) c[k] = null;
    if (k.endsWith('_initializer')) {
      const init = c[k] as Json | null;
      if (init && typeof init === 'object' && !tfjsKnows(String(init.class_name))) delete c[k];
    }
  }
  for (const k of ['lora_rank', 'lora_alpha', 'quantization_config']) {
    if (c[k] != null) throw new UnsupportedLayerError(`${where}: option ${k}=${JSON.stringify(c[k])} is not supported`);
    delete c[k];
  }
  if ('activation' in c) c.activation = activationName(c.activation, where);
  if (c.groups != null && c.groups !== 1) throw new UnsupportedLayerError(`${where}: grouped convolution (groups=${c.groups}) is not supported`);
  delete c.groups;
  if (c.keepdims) throw new UnsupportedLayerError(`${where}: keepdims=true is not supported`);
  delete c.keepdims;
  if (cls === 'InputLayer') { delete c.optional; delete c.ragged; if (!c.sparse) delete c.sparse; }
  if (cls === 'BatchNormalization' && Array.isArray(c.axis)) {
    if (c.axis.length !== 1) throw new UnsupportedLayerError(`${where}: BatchNormalization over several axes is not supported`);
    c.axis = c.axis[0];
  }
  if (cls === 'LeakyReLU' && 'negative_slope' in c) { c.alpha = c.negative_slope; delete c.negative_slope; }
  if (cls === 'ReLU') {
    if (Number(c.negative_slope ?? 0) !== 0 || Number(c.threshold ?? 0) !== 0) throw new UnsupportedLayerError(`${where}: ReLU with negative_slope/threshold is not supported`);
    delete c.negative_slope; delete c.threshold;
  }
  if (cls === 'Rescaling') {
    if (typeof c.scale !== 'number' || typeof c.offset !== 'number') throw new UnsupportedLayerError(`${where}: per-channel Rescaling is not supported`);
    found.rescaling.push({ scale: c.scale, offset: c.offset });
  }
  return c;
}

function tensorRef(t: unknown): unknown[] | null {
  if (!t || typeof t !== 'object') return null;
  const o = t as Json;
  if (o.class_name === '__keras_tensor__') {
    const h = (o.config as Json).keras_history as unknown[];
    return [h[0], h[1], h[2], {}];
  }
  return null;
}

/** Keras 3 `{args, kwargs}` nodes → Keras 2 `[[name, node, tensor, kwargs], …]`. */
function convertInboundNodes(nodes: unknown): unknown {
  if (!Array.isArray(nodes)) return nodes;
  return nodes.map((node) => {
    if (Array.isArray(node)) return node;
    const refs: unknown[] = [];
    const walk = (x: unknown) => {
      const r = tensorRef(x);
      if (r) refs.push(r);
      else if (Array.isArray(x)) x.forEach(walk);
    };
    walk((node as Json).args);
    return refs;
  });
}

/**
 * Keras numbers a nested model's nodes within the outer network only (its call there is node 0) and
 * skips the model's own input node when loading; tfjs counts that input node, so references shift by one.
 */
function bumpNestedModelNodes(cfg: Json): void {
  const layers = cfg.layers as Entry[];
  const models = new Set(layers.filter((l) => l.class_name === 'Sequential' || l.class_name === 'Functional').map((l) => String(l.name ?? l.config.name)));
  if (!models.size) return;
  const bump = (ref: unknown[]) => (models.has(String(ref[0])) ? [ref[0], Number(ref[1]) + 1, ...ref.slice(2)] : ref);
  for (const l of layers) {
    if (Array.isArray(l.inbound_nodes)) l.inbound_nodes = (l.inbound_nodes as unknown[][][]).map((node) => node.map(bump));
  }
  if (Array.isArray(cfg.output_layers)) cfg.output_layers = (cfg.output_layers as unknown[][]).map(bump);
}

const nested = (v: unknown) => (Array.isArray(v) && v.length && typeof v[0] === 'string' ? [v] : v);

function convertEntry(e: Entry, file: string, found: Ctx): Entry {
  const cls = e.class_name;
  const name = String(e.config?.name ?? e.name ?? '?');
  const where = `${file}: layer "${name}" (${cls})`;
  const out: Entry = { class_name: cls, config: {} };
  if (e.name !== undefined) out.name = e.name;
  if (e.inbound_nodes !== undefined) out.inbound_nodes = convertInboundNodes(e.inbound_nodes);
  if (cls === 'Sequential' || cls === 'Functional' || cls === 'Model') {
    out.class_name = cls === 'Model' ? 'Functional' : cls;
    out.config = convertModelConfig(e.config, file, found);
    return out;
  }
  if (IDENTITY_AT_INFERENCE.has(cls)) {
    const c: Json = { name, trainable: false, source_class: cls };
    if (e.config.batch_input_shape) c.batch_input_shape = e.config.batch_input_shape;
    if (e.config.batch_shape) c.batch_input_shape = e.config.batch_shape;
    return { ...out, class_name: 'InferenceIdentity', config: c };
  }
  if (!NATIVE.has(cls)) {
    throw new UnsupportedLayerError(`${where} is not supported by the importer (supported: ${[...NATIVE].filter((x) => x !== 'Model').join(', ')}, and ${[...IDENTITY_AT_INFERENCE].join(', ')} as identity); convert or remove that layer in Keras and re-export`);
  }
  out.config = convertLayerConfig(cls, cleanObject(e.config) as Json, where, found);
  return out;
}

function convertModelConfig(cfg: Json, file: string, found: Ctx): Json {
  const layers = Array.isArray(cfg) ? cfg : (cfg.layers as Entry[] | undefined);
  if (!Array.isArray(layers)) throw new Error(`${file}: model config has no "layers" list; is this a Keras model file?`);
  const converted = layers.map((l) => convertEntry(l, file, found));
  // tfjs Sequentials (nested ones especially) take their input shape from the first layer, not an InputLayer.
  if (!cfg.input_layers && converted.length > 1 && converted[0].class_name === 'InputLayer') {
    const input = converted.shift()!.config;
    converted[0].config = { ...converted[0].config, batch_input_shape: input.batch_input_shape, dtype: input.dtype ?? 'float32' };
  }
  const out: Json = { name: cfg.name, layers: converted };
  if (cfg.input_layers !== undefined) out.input_layers = nested(cfg.input_layers);
  if (cfg.output_layers !== undefined) out.output_layers = nested(cfg.output_layers);
  if (found.kerasNodes) bumpNestedModelNodes(out);
  return out;
}

/**
 * Converts a Keras 2 or Keras 3 model config (the parsed JSON; `{class_name, config}`) into a
 * tfjs-layers topology (`nodeIndexing: 'tfjs'` for topologies tfjs-layers itself saved, whose nested-model
 * node indices already count the model's own input node). Throws UnsupportedLayerError naming the layer class, the layer and `file`.
 */
export function convertKerasConfig(modelConfig: unknown, file: string, opts: { nodeIndexing?: 'keras' | 'tfjs' } = {}): ConvertedConfig {
  const mc = modelConfig as Entry;
  if (!mc || typeof mc !== 'object' || typeof mc.class_name !== 'string' || !mc.config) {
    throw new Error(`${file}: the model config is not a Keras model ({class_name, config} expected); re-export with model.save()`);
  }
  const ctx: Ctx = { rescaling: [], kerasNodes: opts.nodeIndexing !== 'tfjs' };
  if (!['Sequential', 'Functional', 'Model'].includes(mc.class_name)) {
    throw new UnsupportedLayerError(`${file}: top-level class ${mc.class_name} is not supported (Sequential or Functional models only; subclassed models cannot be imported)`);
  }
  const entry = convertEntry(mc, file, ctx);
  return { topology: { class_name: entry.class_name, config: entry.config, keras_version: 'tfjs-import', backend: 'tensor_flow.js' }, rescaling: ctx.rescaling };
}
