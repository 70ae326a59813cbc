/**
 * The model's own layer graph, flattened: every computing layer (nested models expanded, named
 * "outer/inner") with its symbolic output expressed in terms of the outermost inputs. From it we
 * build multi-output models (all activations in one forward pass) and split models (the part after a
 * layer, for Grad-CAM gradients). Nodes whose inputs are unchanged reuse the model's own symbolic
 * tensors; only nested models and the part after a cut are re-wired with `layer.apply` on symbolic
 * tensors (no computation, shared weights).
 */
import * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.LayersModel['layers'][number];
type SymbolicTensor = tfl.SymbolicTensor;

/** A layer of the flattened graph. */
export interface GraphLayer {
  /** Unique name; "outer/inner" inside nested models. */
  name: string;
  className: string;
  layer: Layer;
  /** Symbolic output in terms of the model's inputs (first output for multi-output layers). */
  output: SymbolicTensor;
  /** Output shape without the batch dimension. */
  shape: number[];
}

/** A model's flattened graph. */
export interface FlatGraph {
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
  /** Computing layers (no InputLayer), in topological order. */
  layers: GraphLayer[];
}

function isContainer(layer: Layer): layer is tfl.LayersModel {
  return layer instanceof tfl.LayersModel;
}

function ensureBuilt(model: tfl.LayersModel): void {
  // A Sequential builds its inner graph (nodesByDepth) lazily.
  if (model instanceof tfl.Sequential && !model.built) model.build();
}

function replay(
  container: tfl.LayersModel,
  inputs: SymbolicTensor[],
  prefix: string,
  replace: ReadonlyMap<string, SymbolicTensor>,
  out: GraphLayer[],
): (SymbolicTensor | undefined)[] {
  ensureBuilt(container);
  const map = new Map<number, SymbolicTensor>();
  container.inputs.forEach((t, i) => map.set(t.id, inputs[i]));
  const depths = Object.keys(container.nodesByDepth).map(Number).sort((a, b) => b - a);
  for (const depth of depths) {
    for (const node of container.nodesByDepth[depth]) {
      const layer = node.outboundLayer;
      if (layer.getClassName() === 'InputLayer') continue;
      const ins = node.inputTensors.map((t) => map.get(t.id));
      if (ins.some((t) => t === undefined)) continue; // not reachable from the fed inputs
      const given = ins as SymbolicTensor[];
      let name = `${prefix}${layer.name}`;
      for (let k = 2; out.some((l) => l.name === name); k++) name = `${prefix}${layer.name}@${k}`;
      let outs: (SymbolicTensor | undefined)[];
      if (isContainer(layer)) {
        outs = replay(layer, given, `${name}/`, replace, out);
      } else if (given.every((t, i) => t === node.inputTensors[i])) {
        outs = node.outputTensors;
      } else {
        const r = layer.apply(given.length === 1 ? given[0] : given, node.callArgs) as SymbolicTensor | SymbolicTensor[];
        outs = Array.isArray(r) ? r : [r];
      }
      const cut = replace.get(name);
      if (cut) outs = [cut];
      node.outputTensors.forEach((t, i) => {
        const o = outs[i];
        if (o) map.set(t.id, o);
      });
      const first = outs[0];
      if (!isContainer(layer) && first) {
        out.push({ name, className: layer.getClassName(), layer, output: first, shape: first.shape.slice(1) as number[] });
      }
    }
  }
  return container.outputs.map((t) => map.get(t.id));
}

/**
 * Flattens `model`'s graph. `replace` maps layer names to symbolic tensors that stand in for those
 * layers' outputs (a cut); outputs that cannot be reached are undefined.
 */
export function flattenModel(model: tfl.LayersModel, replace: ReadonlyMap<string, SymbolicTensor> = new Map()): FlatGraph & { reached: (SymbolicTensor | undefined)[] } {
  const layers: GraphLayer[] = [];
  const reached = replay(model, model.inputs, '', replace, layers);
  return { inputs: model.inputs, outputs: reached.filter((t): t is SymbolicTensor => t !== undefined), layers, reached };
}

/** True for a layer whose output is a spatial map [h, w, c]. */
export function isSpatial(l: GraphLayer): boolean {
  return l.shape.length === 3;
}

/** True for convolution layers (Conv2D, SeparableConv2D, DepthwiseConv2D, Conv2DTranspose…). */
export function isConv(l: GraphLayer): boolean {
  return /conv/i.test(l.className) && isSpatial(l);
}

const graphCache = new WeakMap<tfl.LayersModel, FlatGraph>();
const modelCache = new WeakMap<tfl.LayersModel, Map<string, tfl.LayersModel>>();

/** The flattened graph of `model`, built once per model object. */
export function modelGraph(model: tfl.LayersModel): FlatGraph {
  let g = graphCache.get(model);
  if (!g) {
    g = flattenModel(model);
    graphCache.set(model, g);
  }
  return g;
}

/** A derived model (sharing `model`'s weights), built once per key and model object. */
export function derivedModel(model: tfl.LayersModel, key: string, build: () => tfl.LayersModel): tfl.LayersModel {
  let byKey = modelCache.get(model);
  if (!byKey) {
    byKey = new Map();
    modelCache.set(model, byKey);
  }
  let m = byKey.get(key);
  if (!m) {
    m = build();
    byKey.set(key, m);
  }
  return m;
}

/**
 * The part of `model` after layer `name`: a model whose inputs are a stand-in for that layer's
 * output (and the original inputs too when a skip connection jumps over the cut) and whose outputs
 * are the model's outputs. Cached per model.
 */
export function tailModel(model: tfl.LayersModel, name: string): { model: tfl.LayersModel; needsOriginal: boolean } {
  const g = modelGraph(model);
  const target = g.layers.find((l) => l.name === name);
  if (!target) throw new Error(`layer "${name}" not found`);
  const tail = derivedModel(model, `tail:${name}`, () => {
    const cut = tfl.input({ shape: target.shape, name: `cut_${name.replace(/[^A-Za-z0-9_]/g, '_')}` });
    const flat = flattenModel(model, new Map([[name, cut]]));
    if (flat.reached.some((t) => t === undefined)) throw new Error(`the model's output cannot be computed from layer "${name}"`);
    const outputs = flat.outputs;
    try {
      return tfl.model({ inputs: [cut], outputs });
    } catch {
      // A skip connection reaches past the cut: feed the original inputs as well.
      return tfl.model({ inputs: [...model.inputs, cut], outputs });
    }
  });
  return { model: tail, needsOriginal: tail.inputs.length > 1 };
}
