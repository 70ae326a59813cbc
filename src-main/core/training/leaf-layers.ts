import type * as tfl from '@tensorflow/tfjs-layers';

/** Every layer of `model` that is not itself a model, nested models walked in order. */
export function leafLayers(model: { layers: tfl.layers.Layer[] }): tfl.layers.Layer[] {
  return model.layers.flatMap((l) => {
    const inner = (l as unknown as { layers?: tfl.layers.Layer[] }).layers;
    return Array.isArray(inner) ? leafLayers({ layers: inner }) : [l];
  });
}
