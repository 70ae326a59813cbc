/**
 * What the explain views need: a loaded model with the metadata that says how to feed it and
 * how to read its output, and an image brought to the model's input.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { InputSpec, ModelMetadata } from '../../../src-shared/types.ts';
import { loadForModel } from '../imaging/preprocess.ts';
import { loadStoredModel, resolveModel, type StoreOptions } from '../models/store.ts';

/** A model to explain: the layers model plus the metadata fields the views use. */
export interface ExplainModel {
  model: tfl.LayersModel;
  metadata: Pick<ModelMetadata, 'id' | 'input' | 'classNames' | 'positiveClass' | 'output' | 'threshold' | 'familiarity'>;
}

/** An image already brought to the model's input (HWC, scaled per the spec). */
export interface PreparedImage {
  data: Float32Array;
  originalWidth: number;
  originalHeight: number;
  /** Where it came from (for messages). */
  path?: string;
}

/** A file path (decoded and resized per the model's input spec) or a prepared image. */
export type ImageSource = string | PreparedImage;

/** Resolves a model id or folder path and loads it (weights checked against metadata.json). */
export async function openExplainModel(idOrPath: string | undefined, opts: StoreOptions = {}): Promise<ExplainModel> {
  const stored = await resolveModel(idOrPath, opts);
  const model = await loadStoredModel(stored);
  checkInput(model, stored.metadata.input, stored.dir);
  return { model, metadata: stored.metadata };
}

/** Throws when the model's input layer does not match the input spec in its metadata. */
export function checkInput(model: tfl.LayersModel, spec: InputSpec, where: string): void {
  const shape = model.inputs[0]?.shape;
  if (model.inputs.length !== 1 || !shape || shape.length !== 4) {
    throw new Error(`${where}: the explain views need a model with one image input [batch, h, w, c] (got ${JSON.stringify(model.inputs.map((t) => t.shape))})`);
  }
  const [, h, w, c] = shape;
  if ((h != null && h !== spec.height) || (w != null && w !== spec.width) || (c != null && c !== spec.channels)) {
    throw new Error(`${where}: the model's input is ${h}×${w}×${c} but metadata.json says ${spec.height}×${spec.width}×${spec.channels}; fix metadata.json`);
  }
}

/** Decodes and resizes a file for the model, or checks the size of an already prepared image. */
export async function prepareImage(image: ImageSource, spec: InputSpec): Promise<PreparedImage> {
  if (typeof image === 'string') {
    const m = await loadForModel(image, spec);
    return { data: m.data, originalWidth: m.originalWidth, originalHeight: m.originalHeight, path: image };
  }
  const want = spec.height * spec.width * spec.channels;
  if (image.data.length !== want) {
    throw new Error(`${image.path ?? 'image'}: has ${image.data.length} values, the model wants ${spec.height}×${spec.width}×${spec.channels} = ${want}`);
  }
  return image;
}

/** P(positive class) from one row of model output (sigmoid: 1 value; softmax: one per class). */
export function positiveProbability(row: ArrayLike<number>, md: ExplainModel['metadata']): number {
  if (row.length === 1) return row[0];
  return row[md.classNames.indexOf(md.positiveClass)];
}

/** The predicted class index: the threshold on P(positive) for sigmoid heads, argmax for softmax. */
export function predictedIndex(row: ArrayLike<number>, md: ExplainModel['metadata']): number {
  const pos = md.classNames.indexOf(md.positiveClass);
  if (row.length === 1) return row[0] >= md.threshold ? pos : md.classNames.findIndex((_, i) => i !== pos);
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
