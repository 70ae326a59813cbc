// Cuts a layers model at a named layer and rebuilds it, flat, for a new input size; copies the weights.
import * as tfl from '@tensorflow/tfjs-layers';

export type Inbound = Array<Array<[string, number, number, Record<string, unknown>?]>>;
export interface LayerEntry {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: Inbound;
}

/** A Sequential config as an equivalent functional one (an InputLayer in front, each layer fed by the one before). */
export function toFunctional(layers: LayerEntry[], label: string): { layers: LayerEntry[]; input_layers: unknown[] } {
  const first = layers[0];
  const shape = (first?.config.batch_input_shape ?? first?.config.batchInputShape) as unknown[] | undefined;
  if (!shape) throw new Error(`${label}: the first layer has no input shape; re-import the model`);
  const inputName = `${String(first.config.name)}_input`;
  const out: LayerEntry[] = [{ class_name: 'InputLayer', name: inputName, config: { batch_input_shape: shape, dtype: 'float32', sparse: false, name: inputName }, inbound_nodes: [] }];
  for (const l of layers) {
    const name = String(l.config.name);
    const config = { ...l.config };
    delete config.batch_input_shape;
    delete config.batchInputShape;
    out.push({ class_name: l.class_name, name, config, inbound_nodes: [[[out[out.length - 1].name, 0, 0, {}]]] });
  }
  return { layers: out, input_layers: [[inputName, 0, 0]] };
}

/** Layer names of `model` in order, up to and including `cutAt` (the layers `cutAt` depends on). */
export function layersUpTo(model: tfl.LayersModel, cutAt: string): string[] {
  const names = model.layers.map((l) => l.name);
  const i = names.indexOf(cutAt);
  return i < 0 ? [] : names.slice(0, i + 1);
}

/**
 * Rebuilds `source` up to layer `cutAt` (inclusive) with a square `inputSize` input, as a flat functional
 * model, and copies the weights of every kept layer. `label` names the model in errors.
 */
export async function cutModel(source: tfl.LayersModel, cutAt: string, inputSize: number, label: string): Promise<tfl.LayersModel> {
  const json = source.toJSON(null, false) as unknown as { class_name: string; config: Record<string, unknown> };
  const cfg = json.config;
  let layers = (cfg.layers ?? []) as LayerEntry[];
  let inputLayers = cfg.input_layers as unknown[] | undefined;
  if (json.class_name === 'Sequential') ({ layers, input_layers: inputLayers } = toFunctional(layers, label));
  const byName = new Map(layers.map((l) => [l.name ?? String(l.config.name), l]));
  if (!byName.has(cutAt)) {
    const hint = source.layers.filter((l) => /pool|relu|conv|add|activation|bn/i.test(l.name)).slice(-6).map((l) => l.name).join(', ');
    throw new Error(`${label}: no layer "${cutAt}" to cut at (last conv-base layers: ${hint}); run \`cxr summary\` on the model to list its layer names`);
  }
  const keep = new Set<string>();
  const visit = (name: string) => {
    if (keep.has(name)) return;
    const l = byName.get(name);
    if (!l) throw new Error(`${label}: layer "${name}" is referenced but not defined; re-import the model`);
    keep.add(name);
    for (const node of l.inbound_nodes ?? []) for (const [src] of node) visit(src);
  };
  visit(cutAt);
  const kept = layers.filter((l) => keep.has(l.name)).map((l) => {
    if (l.class_name !== 'InputLayer') return l;
    const shape = (l.config.batch_input_shape ?? l.config.batchInputShape) as Array<number | null>;
    const config: Record<string, unknown> = { ...l.config, batch_input_shape: [null, inputSize, inputSize, shape[3]] };
    delete config.batchInputShape;
    return { ...l, config };
  });
  const config = {
    name: `${String(cfg.name ?? 'base')}_to_${cutAt}`,
    layers: kept,
    input_layers: (inputLayers ?? []).filter((x) => keep.has(String((x as unknown[])[0]))),
    output_layers: [[cutAt, 0, 0]],
  };
  let base: tfl.LayersModel;
  try {
    base = await tfl.models.modelFromJSON({ modelTopology: { class_name: 'Model', config } } as never);
  } catch (e) {
    throw new Error(`${label}: cannot rebuild the layers up to "${cutAt}" at ${inputSize}×${inputSize} (${(e as Error).message}); choose another --cut-at or --input-size`);
  }
  for (const layer of base.layers) {
    if (!layer.weights.length) continue;
    const w = source.getLayer(layer.name).getWeights();
    try {
      layer.setWeights(w);
    } catch (e) {
      throw new Error(`${label}: layer "${layer.name}" weights do not fit at input ${inputSize}×${inputSize} (${(e as Error).message}); cut before any Flatten/Dense layer`);
    }
  }
  return base;
}
