// Combines trained sigmoid models into one TensorFlow.js model: every member sees the same image (the
// largest member's input), brought in the graph to the member's own size and channels, and the ensemble
// outputs σ(mean of the members' logits). The result is an ordinary flat layers model, so classify,
// explain, export to ONNX and the history treat it like any other model.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ChannelTone, InputSpec, ModelMetadata } from '../../../src-shared/types.ts';
import { toFunctional, type LayerEntry } from '../transfer/cut-model.ts';

/** A member: a loaded model and its metadata. */
export interface EnsembleMember {
  model: tfl.LayersModel;
  metadata: ModelMetadata;
}

const NESTED = new Set(['Model', 'Functional', 'Sequential']);
/** ITU-R 601 luma, as the image pipeline's colour → grey conversion. */
const LUMA = [0.299, 0.587, 0.114];

/**
 * The input the ensemble takes: the largest member's. Every member must share its resize mode and
 * scaling, and its size must be a whole multiple of each member's (the image is average-pooled down).
 * Members that normalise tone differently get a 3-channel grey input with one tone per channel
 * (InputSpec.toneByChannel): each reads its own, so each sees what it was trained on.
 */
export function ensembleInput(members: readonly EnsembleMember[]): InputSpec {
  if (members.length < 2) throw new Error(`an ensemble needs at least two models (got ${members.length})`);
  const input = [...members].sort((a, b) => b.metadata.input.height - a.metadata.input.height)[0].metadata.input;
  for (const { metadata: m } of members) {
    const name = `model "${m.id}"`;
    if (m.output !== 'sigmoid') throw new Error(`${name} has a ${m.output} output; an ensemble combines sigmoid models only`);
    if (m.input.resize !== input.resize) throw new Error(`${name} resizes by "${m.input.resize}", the others by "${input.resize}"; retrain it with --resize ${input.resize}`);
    if (m.input.scaling !== input.scaling) throw new Error(`${name} scales pixels by "${m.input.scaling}", the others by "${input.scaling}"; combine models with the same scaling`);
    if (m.input.toneByChannel) throw new Error(`${name} is itself an ensemble of members with different tones; combine its members instead`);
    const fy = input.height / m.input.height;
    const fx = input.width / m.input.width;
    if (!Number.isInteger(fy) || fy !== fx) {
      throw new Error(`${name} takes ${m.input.width}×${m.input.height}, which does not divide ${input.width}×${input.height} evenly; use members whose sizes divide the largest one`);
    }
  }
  const tones = [...new Set(members.map((m): ChannelTone => m.metadata.input.tone ?? 'none'))];
  if (tones.length === 1) return input;
  const { tone: _one, ...rest } = input;
  return { ...rest, channels: 3, toneByChannel: [0, 1, 2].map((c) => tones[c % tones.length]) };
}

/** The member's Dense output weights with its calibration folded in (logit' = a·logit + b, or logit / T). */
function foldCalibration(weights: tf.Tensor[], m: ModelMetadata): tf.Tensor[] {
  const c = m.calibration;
  if (!c) return weights;
  const a = c.method === 'platt' ? (c.a ?? 1) : 1 / (c.temperature ?? 1);
  const b = c.method === 'platt' ? (c.b ?? 0) : 0;
  const [kernel, bias] = weights;
  if (!bias && b !== 0) throw new Error(`model "${m.id}" is Platt-calibrated but its output layer has no bias to fold the offset into; combine it uncalibrated`);
  return bias ? [tf.mul(kernel, a), tf.add(tf.mul(bias, a), b)] : [tf.mul(kernel, a)];
}

function memberLayers(member: EnsembleMember, prefix: string, feed: string): { layers: LayerEntry[]; logit: string } {
  const label = `model "${member.metadata.id}"`;
  const json = member.model.toJSON(null, false) as unknown as { class_name: string; config: Record<string, unknown> };
  let layers = (json.config.layers ?? []) as LayerEntry[];
  let inputs = json.config.input_layers as unknown[] | undefined;
  let outputs = json.config.output_layers as unknown[] | undefined;
  if (json.class_name === 'Sequential') {
    ({ layers, input_layers: inputs } = toFunctional(layers, label));
    outputs = [[layers[layers.length - 1].name, 0, 0]];
  }
  if (inputs?.length !== 1 || outputs?.length !== 1) throw new Error(`${label} has ${inputs?.length} inputs and ${outputs?.length} outputs; an ensemble member needs one of each`);
  const inputName = String((inputs[0] as unknown[])[0]);
  const outputName = String((outputs[0] as unknown[])[0]);
  const rename = (n: string) => (n === inputName ? feed : prefix + n);
  const out: LayerEntry[] = [];
  for (const l of layers) {
    if (l.class_name === 'InputLayer') continue;
    if (NESTED.has(l.class_name)) throw new Error(`${label} contains a nested model ("${l.name}"); re-save it flat before combining`);
    const name = prefix + l.name;
    const config: Record<string, unknown> = { ...l.config, name };
    if (l.name === outputName) {
      if (l.class_name !== 'Dense' || config.units !== 1 || config.activation !== 'sigmoid') {
        throw new Error(`${label} must end in a Dense(1, sigmoid) layer to be combined (its last layer "${l.name}" is ${l.class_name})`);
      }
      config.activation = 'linear';
    }
    out.push({ class_name: l.class_name, name, config, inbound_nodes: l.inbound_nodes.map((node) => node.map(([src, ni, ti, kw]) => [rename(src), ni, ti, kw ?? {}])) });
  }
  return { layers: out, logit: prefix + outputName };
}

/**
 * Builds the ensemble of `members` (at least two; see ensembleInput for what they must share) and
 * copies their weights; a member's calibration is folded into its logit. `logits` names each member's
 * logit layer, in member order. The caller owns the model.
 */
export async function buildEnsemble(members: readonly EnsembleMember[]): Promise<{ model: tfl.LayersModel; input: InputSpec; logits: string[] }> {
  const input = ensembleInput(members);
  const layers: LayerEntry[] = [{ class_name: 'InputLayer', name: 'image', config: { batch_input_shape: [null, input.height, input.width, input.channels], dtype: 'float32', sparse: false, name: 'image' }, inbound_nodes: [] }];
  const logits: string[] = [];
  const fixed = new Map<string, tf.Tensor[]>();
  const sources = new Map<string, { layer: tfl.layers.Layer; member: EnsembleMember; isOutput: boolean }>();
  members.forEach((member, i) => {
    const prefix = `m${i + 1}_`;
    const mi = member.metadata.input;
    let feed = 'image';
    const add = (entry: LayerEntry) => {
      layers.push(entry);
      feed = entry.name;
    };
    const toneChannel = input.toneByChannel?.indexOf(mi.tone ?? 'none');
    if (toneChannel !== undefined) {
      // A fixed 1×1 convolution that copies the channel of this member's tone to each of its channels.
      const name = `${prefix}tone_${mi.tone ?? 'none'}`;
      add({ class_name: 'Conv2D', name, config: { name, filters: mi.channels, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', use_bias: false, activation: 'linear', trainable: false }, inbound_nodes: [[[feed, 0, 0, {}]]] });
      const pick = new Float32Array(input.channels * mi.channels);
      for (let o = 0; o < mi.channels; o++) pick[toneChannel * mi.channels + o] = 1;
      fixed.set(name, [tf.tensor4d(pick, [1, 1, input.channels, mi.channels])]);
    } else if (mi.channels !== input.channels) {
      const name = `${prefix}to_${mi.channels === 1 ? 'grey' : 'rgb'}`;
      add({ class_name: 'Conv2D', name, config: { name, filters: mi.channels, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', use_bias: false, activation: 'linear', trainable: false }, inbound_nodes: [[[feed, 0, 0, {}]]] });
      const kernel = mi.channels === 1 ? tf.tensor4d(LUMA, [1, 1, 3, 1]) : tf.ones([1, 1, 1, 3]);
      fixed.set(name, [kernel]);
    }
    const factor = input.height / mi.height;
    if (factor > 1) {
      const name = `${prefix}downscale`;
      add({ class_name: 'AveragePooling2D', name, config: { name, pool_size: [factor, factor], strides: [factor, factor], padding: 'valid', trainable: false }, inbound_nodes: [[[feed, 0, 0, {}]]] });
    }
    const part = memberLayers(member, prefix, feed);
    layers.push(...part.layers);
    logits.push(part.logit);
    for (const l of member.model.layers) sources.set(prefix + l.name, { layer: l, member, isOutput: prefix + l.name === part.logit });
  });
  layers.push({ class_name: 'Average', name: 'ensemble_mean_logit', config: { name: 'ensemble_mean_logit' }, inbound_nodes: [logits.map((n) => [n, 0, 0, {}])] });
  layers.push({ class_name: 'Activation', name: 'ensemble_output', config: { name: 'ensemble_output', activation: 'sigmoid' }, inbound_nodes: [[['ensemble_mean_logit', 0, 0, {}]]] });
  const config = { name: 'ensemble', layers, input_layers: [['image', 0, 0]], output_layers: [['ensemble_output', 0, 0]] };
  let model: tfl.LayersModel;
  try {
    model = await tfl.models.modelFromJSON({ modelTopology: { class_name: 'Model', config } } as never);
  } catch (e) {
    throw new Error(`cannot build the ensemble (${(e as Error).message})`);
  }
  for (const layer of model.layers) {
    const given = fixed.get(layer.name);
    if (given) {
      layer.setWeights(given);
      tf.dispose(given);
      continue;
    }
    const src = sources.get(layer.name);
    if (!src || !layer.weights.length) continue;
    const w = src.layer.getWeights();
    if (!src.isOutput) {
      layer.setWeights(w);
      continue;
    }
    const folded = foldCalibration(w, src.member.metadata);
    layer.setWeights(folded);
    if (folded !== w) tf.dispose(folded);
  }
  return { model, input, logits };
}
