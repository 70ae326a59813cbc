/** Fits a model's familiarity check (familiarity.ts): the centre on the images it was fitted on, the limit on images it was not. */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { FamiliarityRecord, FileFailure, ModelMetadata } from '../../../src-shared/types.ts';
import { toFileFailure } from '../imaging/image-error.ts';
import { loadForModel } from '../imaging/preprocess.ts';
import { tfjsRows } from '../inference/predictor.ts';
import { cachedOnnx } from '../onnx/onnx-cache.ts';
import { openOrtSession } from '../onnx/ort-session.ts';
import { cosineDistance, outputWidth, packVector, unpackVector, withFeatureOutput } from './familiarity.ts';

/** Layers that give one vector of at least `minWidth` values per image: the candidates for --layer. */
export function vectorLayers(model: tfl.LayersModel, minWidth = 16): Array<{ name: string; width: number }> {
  const out: Array<{ name: string; width: number }> = [];
  for (const layer of model.layers) {
    const o = layer.output as tfl.SymbolicTensor | tfl.SymbolicTensor[];
    if (Array.isArray(o) || o.shape.length !== 2 || (o.shape[1] ?? 0) < minWidth || layer.getClassName() === 'Dropout') continue;
    out.push({ name: layer.name, width: o.shape[1]! });
  }
  return out;
}

/** What fitting needs. */
export interface FitFamiliarityOptions {
  layer: string;
  /** Images the model was fitted on (their mean feature is the centre) and where they come from. */
  fit: string[];
  fitDataset: string;
  /** Images it was not fitted on (their largest distance × margin is the limit) and where they come from. */
  limitOn: string[];
  limitDataset: string;
  /** Default 1.1. */
  margin?: number;
  batchSize?: number;
  /**
   * 'onnx' runs the feature model in onnxruntime when it converts (much faster on CPU), else TensorFlow.js. The ONNX
   * conversion is cached under the metadata's weightsSha256: use 'tfjs' for weights the metadata does not describe yet.
   */
  engine?: 'onnx' | 'tfjs';
  onProgress?: (done: number, total: number) => void;
}

/** The fitted check and what it was fitted from. */
export interface FamiliarityFit {
  record: FamiliarityRecord;
  fitDistances: number[];
  limitDistances: number[];
  skipped: FileFailure[];
  engine: string;
}

type RowRunner = { engine: string; rows(batch: Float32Array, n: number): Promise<Float32Array>; close(): Promise<void> };

async function rowRunner(run: tfl.LayersModel, md: ModelMetadata, engine: 'onnx' | 'tfjs'): Promise<RowRunner> {
  const { height, width, channels } = md.input;
  if (engine === 'onnx') {
    try {
      const { onnx } = await cachedOnnx(run, md);
      const session = await openOrtSession(onnx);
      return { engine: 'onnxruntime', rows: async (b, n) => (await session.run(b, [n, height, width, channels])).data, close: () => session.release() };
    } catch { /* not convertible or no onnxruntime: TensorFlow.js below */ }
  }
  return { engine: 'tfjs', rows: tfjsRows(run, md.input), close: async () => undefined };
}

async function features(runner: RowRunner, md: ModelMetadata, files: string[], o: { batchSize: number; width: number; skipped: FileFailure[]; tick: () => void }): Promise<Float32Array[]> {
  const size = md.input.height * md.input.width * md.input.channels;
  const k = outputWidth(md);
  const out: Float32Array[] = [];
  for (let s = 0; s < files.length; s += o.batchSize) {
    const loaded: Float32Array[] = [];
    for (const f of files.slice(s, s + o.batchSize)) {
      try {
        loaded.push((await loadForModel(f, md.input)).data);
      } catch (e) {
        o.skipped.push(toFileFailure(e, f));
      }
      o.tick();
    }
    if (!loaded.length) continue;
    const buf = new Float32Array(loaded.length * size);
    loaded.forEach((d, i) => buf.set(d, i * size));
    const rows = await runner.rows(buf, loaded.length);
    for (let i = 0; i < loaded.length; i++) out.push(rows.slice(i * o.width + k, (i + 1) * o.width));
  }
  return out;
}

/**
 * Fits the familiarity check of `model` at `o.layer`: centre = mean feature of `o.fit` (stored in 8 bits), limit =
 * margin × the largest distance from that stored centre among `o.limitOn`. Unreadable images are skipped and listed.
 * Throws when a set has no usable image or the layer gives no vector per image.
 */
export async function fitFamiliarity(model: tfl.LayersModel, md: ModelMetadata, o: FitFamiliarityOptions): Promise<FamiliarityFit> {
  const margin = o.margin ?? 1.1;
  if (!(margin >= 1)) throw new Error(`margin must be at least 1 (got ${margin})`);
  const run = withFeatureOutput(model, o.layer);
  const width = (run.outputs[0].shape[1] as number);
  const runner = await rowRunner(run, md, o.engine ?? 'onnx');
  const skipped: FileFailure[] = [];
  const total = o.fit.length + o.limitOn.length;
  let done = 0;
  const opts = { batchSize: o.batchSize ?? 8, width, skipped, tick: () => o.onProgress?.(++done, total) };
  try {
    const fitFeatures = await features(runner, md, o.fit, opts);
    if (!fitFeatures.length) throw new Error(`${o.fitDataset}: no usable fit image to take the mean feature of`);
    const mean = new Float64Array(width - outputWidth(md));
    for (const f of fitFeatures) for (let i = 0; i < mean.length; i++) mean[i] += f[i] / fitFeatures.length;
    const packed = packVector(mean);
    const center = unpackVector(packed);
    const limitFeatures = await features(runner, md, o.limitOn, opts);
    if (!limitFeatures.length) throw new Error(`${o.limitDataset}: no usable image to set the limit on`);
    const fitDistances = fitFeatures.map((f) => cosineDistance(f, center));
    const limitDistances = limitFeatures.map((f) => cosineDistance(f, center));
    const largest = Math.max(...limitDistances);
    const record: FamiliarityRecord = {
      layer: o.layer,
      center: packed,
      limit: Math.min(2, margin * largest),
      fittedOn: { dataset: o.fitDataset, n: fitFeatures.length },
      limitFrom: { dataset: o.limitDataset, n: limitFeatures.length, largest, margin },
      chosenAt: new Date().toISOString(),
    };
    return { record, fitDistances, limitDistances, skipped, engine: runner.engine };
  } finally {
    await runner.close();
  }
}
