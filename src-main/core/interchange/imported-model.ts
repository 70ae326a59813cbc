import type * as tfl from '@tensorflow/tfjs-layers';

/** A model read from a Keras or TensorFlow.js file, ready to store. */
export interface ImportedModel {
  model: tfl.LayersModel;
  format: 'keras-h5' | 'keras-v3' | 'tfjs-layers';
  /** The file or folder it came from. */
  source: string;
  /** Rescaling layers inside the model (scale, offset), outermost first. */
  rescaling: Array<{ scale: number; offset: number }>;
  kerasVersion?: string;
}
