// tfjs-layers' Dropout with a `seed` draws the same mask on every call (tf.randomUniform re-seeds each time),
// so a given position in the batch drops the same units at every step (with batch size 1, those units never
// train). Training re-seeds every dropout layer before each step from the run's seeded generator: new
// masks each step, still reproducible for a seed.
import type * as tfl from '@tensorflow/tfjs-layers';
import { leafLayers } from './leaf-layers.ts';

const DROPOUT = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'AlphaDropout', 'GaussianDropout']);

/** Every dropout-type layer of `model`, nested models included. */
export function dropoutLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return leafLayers(model).filter((l) => DROPOUT.has(l.getClassName()));
}

/** Gives each layer a distinct seed derived from `seed`, so the next training call draws fresh masks. */
export function reseedDropout(layers: tfl.layers.Layer[], seed: number): void {
  layers.forEach((l, i) => {
    (l as unknown as { seed?: number }).seed = (seed + i * 7919) % 2147483647;
  });
}
