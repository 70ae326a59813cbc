/**
 * `cxr summary` / the app's model details: a stored model described like Keras `model.summary()`.
 * Plain data only (no Node, no TensorFlow.js).
 */
import type { InputSpec } from './types.ts';

/** One layer of the top-level model (a nested model is one row, as in Keras). */
export interface LayerSummary {
  name: string;
  /** tfjs class name; identity stand-ins read e.g. "InferenceIdentity(RandomFlip)". */
  className: string;
  /** Output shape with null for the batch (and other unknown) dimensions; "multiple" when shared. */
  outputShape: Array<number | null> | Array<Array<number | null>> | 'multiple';
  params: number;
  trainableParams: number;
  /** Names of the layers feeding this one. */
  inbound: string[];
}

/** A stored model described for display. */
export interface ModelSummary {
  id: string;
  name: string;
  version: string;
  architecture: string;
  dir: string;
  source: 'shipped' | 'user';
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  input: InputSpec;
  output: 'sigmoid' | 'softmax';
  classNames: string[];
  positiveClass: string;
  threshold: number;
  /** Bytes of every file in the model folder. */
  sizeBytes: number;
  files: Array<{ name: string; bytes: number }>;
  /** sha256 of the weights as stored in metadata.json, and whether the files on disk still match it. */
  weightsSha256: string;
  weightsVerified: boolean;
  notes?: string;
}
