import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { engineInfo, engineLabel } from '../engine/backend.ts';
import { calibrateAll } from '../evaluation/calibrate.ts';

/** Runs a model on a batch of preprocessed images and returns P(positive class) per image. */
export interface Predictor {
  /** e.g. "tfjs wasm". */
  engine: string;
  predict(batch: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Wraps a TensorFlow.js layers model as a Predictor (sigmoid or softmax head → P(positive)); the
 * model's calibration (metadata.calibration, from `cxr threshold --calibrate`) is applied to the output.
 */
export function tfjsPredictor(model: tfl.LayersModel, md: ModelMetadata): Predictor {
  const { height, width, channels } = md.input;
  const positive = md.classNames.indexOf(md.positiveClass);
  return {
    engine: engineLabel(engineInfo()),
    async predict(batch, n) {
      const out = tf.tidy(() => {
        const y = model.predict(tf.tensor4d(batch, [n, height, width, channels])) as tf.Tensor;
        if (md.output === 'softmax' || (y.shape[1] ?? 1) > 1) return tf.reshape(tf.gather(y, [positive], 1), [n]);
        return tf.reshape(y, [n]);
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      calibrateAll(md.calibration, data);
      return data;
    },
    dispose() {
      model.dispose();
    },
  };
}
