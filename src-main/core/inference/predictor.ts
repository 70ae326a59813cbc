import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { InputSpec, ModelMetadata } from '../../../src-shared/types.ts';
import { engineInfo, engineLabel } from '../engine/backend.ts';
import { calibrateAll } from '../evaluation/calibrate.ts';
import { modelForPrediction, splitRows, unpackVector } from '../familiarity/familiarity.ts';

/** What a model says about a batch of images. */
export interface Scores {
  /** P(positive class) per image, after the model's calibration. */
  probabilities: Float32Array;
  /** Per image, its distance from the model's training images, when the model has a familiarity check (metadata.familiarity). */
  distances?: Float32Array;
}

/** Runs a model on a batch of preprocessed images and returns P(positive class) per image (and distances, see Scores). */
export interface Predictor {
  /** e.g. "tfjs wasm". */
  engine: string;
  predict(batch: Float32Array, n: number): Promise<Scores>;
  dispose(): void;
}

/** The familiarity centre of a model as floats, or undefined when it has no check. */
export function familiarityCenter(md: ModelMetadata): Float32Array | undefined {
  return md.familiarity ? unpackVector(md.familiarity.center) : undefined;
}

/**
 * Turns the rows a prediction model gave (see modelForPrediction; row-major, n rows) into Scores: the positive
 * class's column of a sigmoid or softmax head, calibrated by the model's calibration, and the distances.
 */
export function scoresFromRows(raw: Float32Array, n: number, md: ModelMetadata, center: Float32Array | undefined): Scores {
  const { outputs, width, distances } = splitRows(raw, n, md, center);
  const col = md.output === 'softmax' || width > 1 ? md.classNames.indexOf(md.positiveClass) : 0;
  const probabilities = new Float32Array(n);
  for (let i = 0; i < n; i++) probabilities[i] = outputs[i * width + col];
  calibrateAll(md.calibration, probabilities);
  return distances ? { probabilities, distances } : { probabilities };
}

/** Runs a layers model on a batch of `n` images (NHWC per `input`) and returns its output rows, row-major; no tensor is kept. */
export function tfjsRows(model: tfl.LayersModel, input: Pick<InputSpec, 'height' | 'width' | 'channels'>): (batch: Float32Array, n: number) => Promise<Float32Array> {
  return async (batch, n) => {
    const out = tf.tidy(() => model.predict(tf.tensor4d(batch, [n, input.height, input.width, input.channels])) as tf.Tensor);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
}

/**
 * Wraps a TensorFlow.js layers model as a Predictor (sigmoid or softmax head → P(positive)); the
 * model's calibration (metadata.calibration, from `cxr threshold --calibrate`) is applied to the output,
 * and its familiarity check's distances come with it.
 */
export function tfjsPredictor(model: tfl.LayersModel, md: ModelMetadata): Predictor {
  const rows = tfjsRows(modelForPrediction(model, md), md.input);
  const center = familiarityCenter(md);
  return {
    engine: engineLabel(engineInfo()),
    async predict(batch, n) {
      return scoresFromRows(await rows(batch, n), n, md, center);
    },
    dispose() {
      model.dispose();
    },
  };
}
