// tfjs-layers' Dropout with a `seed` draws the same mask on every call (tf.randomUniform re-seeds each time),
// which silently turns dropout into a fixed, smaller network whose dropped units never train. Training
// re-seeds every dropout layer before each step from the run's seeded generator: new masks each step,
// still reproducible for a seed.
import type * as tfl from '@tensorflow/tfjs-layers';

const DROPOUT = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'AlphaDropout', 'GaussianDropout']);

type Container = { layers?: tfl.layers.Layer[] };

/** Every dropout-type layer of `model`, nested models included. */
export function dropoutLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const out: tfl.layers.Layer[] = [];
  const walk = (layers: tfl.layers.Layer[]) => {
    for (const l of layers) {
      if (DROPOUT.has(l.getClassName())) out.push(l);
      const inner = (l as unknown as Container).layers;
      if (Array.isArray(inner)) walk(inner);
    }
  };
  walk(model.layers);
  return out;
}

/** Gives each layer a distinct seed derived from `seed`, so the next training call draws fresh masks. */
export function reseedDropout(layers: tfl.layers.Layer[], seed: number): void {
  layers.forEach((l, i) => {
    (l as unknown as { seed?: number }).seed = (seed + i * 7919) % 2147483647;
  });
}
