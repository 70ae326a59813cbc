// A stored model described like Keras `model.summary()`, as plain JSON for the CLI and the app.
import type * as tfl from '@tensorflow/tfjs-layers';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { LayerSummary, ModelSummary } from '../../../src-shared/model-summary.ts';
import type { StoredModel } from '../models/store.ts';
import { readModelArtifacts } from '../models/tfjs-files.ts';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function outputShape(layer: tfl.layers.Layer): LayerSummary['outputShape'] {
  try {
    return layer.outputShape as LayerSummary['outputShape'];
  } catch {
    return 'multiple';
  }
}

function className(layer: tfl.layers.Layer): string {
  const src = (layer as unknown as { sourceClass?: string }).sourceClass;
  return src ? `${layer.getClassName()}(${src})` : layer.getClassName();
}

/** Describes each top-level layer of a model: class, output shape, parameters, inbound layers. */
export function summarizeLayers(model: tfl.LayersModel): LayerSummary[] {
  return model.layers.map((layer) => {
    const inbound = new Set<string>();
    for (const node of layer.inboundNodes) for (const l of node.inboundLayers) inbound.add(l.name);
    return {
      name: layer.name,
      className: className(layer),
      outputShape: outputShape(layer),
      params: layer.countParams(),
      trainableParams: layer.trainableWeights.reduce((a, w) => a + size(w.shape as number[]), 0),
      inbound: [...inbound],
    };
  });
}

/** Summarises a stored model (already loaded as `model`): layers, parameter counts, input spec, files, sha256. */
export async function summarizeModel(stored: StoredModel, model: tfl.LayersModel): Promise<ModelSummary> {
  const md = stored.metadata;
  const layers = summarizeLayers(model);
  const total = model.countParams();
  const trainable = model.trainableWeights.reduce((a, w) => a + size(w.shape as number[]), 0);
  const files: ModelSummary['files'] = [];
  for (const name of (await fsp.readdir(stored.dir)).sort()) {
    const st = await fsp.stat(path.join(stored.dir, name));
    if (st.isFile()) files.push({ name, bytes: st.size });
  }
  const { weightsSha256 } = await readModelArtifacts(stored.dir);
  return {
    id: md.id, name: md.name, version: md.version, architecture: md.architecture, dir: stored.dir, source: stored.source,
    layers, totalParams: total, trainableParams: trainable, nonTrainableParams: total - trainable,
    input: md.input, output: md.output, classNames: md.classNames, positiveClass: md.positiveClass, threshold: md.threshold,
    sizeBytes: files.reduce((a, f) => a + f.bytes, 0), files, weightsSha256: md.weightsSha256,
    weightsVerified: weightsSha256 === md.weightsSha256, notes: md.notes,
  };
}

const fmtShape = (s: LayerSummary['outputShape']) => (s === 'multiple' ? s : JSON.stringify(s).replace(/null/g, 'None').replace(/,/g, ', '));

/** Renders a summary as a Keras-style text table. */
export function renderSummary(s: ModelSummary): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const w = [Math.max(20, ...s.layers.map((l) => l.name.length + l.className.length + 4)), 26, 12];
  const row = (a: string, b: string, c: string) => `${a.padEnd(w[0])} ${b.padEnd(w[1])} ${c.padStart(w[2])}`;
  const rule = '─'.repeat(w[0] + w[1] + w[2] + 2);
  const out = [`Model "${s.id}" v${s.version}: ${s.name} (${s.source}, ${s.architecture})`, rule, row('Layer (type)', 'Output Shape', 'Param #'), rule];
  for (const l of s.layers) out.push(row(`${l.name} (${l.className})`, fmtShape(l.outputShape), n(l.params)));
  out.push(rule, `Total params: ${n(s.totalParams)}`, `Trainable params: ${n(s.trainableParams)}`, `Non-trainable params: ${n(s.nonTrainableParams)}`, rule);
  const i = s.input;
  out.push(`Input: ${i.width}×${i.height}×${i.channels}, resize ${i.resize}, preprocessing ${i.scaling}`);
  out.push(`Output: ${s.output} → P(${s.positiveClass}); classes ${s.classNames.join(', ')}; threshold ${s.threshold.toFixed(3)}`);
  out.push(`Size on disk: ${n(s.sizeBytes)} bytes (${s.files.map((f) => `${f.name} ${n(f.bytes)}`).join(', ')})`);
  out.push(`Weights sha256: ${s.weightsSha256} (${s.weightsVerified ? 'verified' : 'MISMATCH: files changed since saving; re-import the model'})`);
  if (s.notes) out.push(`Notes: ${s.notes}`);
  out.push(`Folder: ${s.dir}`);
  return out;
}
