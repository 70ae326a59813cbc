// BatchNormalization layers kept in inference mode while the rest of a model trains (fine-tuning a
// pretrained base). Marked so that model worker threads, which rebuild the model from its JSON, apply
// the same override.
import type * as tfl from '@tensorflow/tfjs-layers';

const patched = new WeakSet<tfl.layers.Layer>();

/**
 * Makes every BatchNormalization layer named in `names` always normalise with its moving statistics,
 * even when the model is applied with `training: true`, so training never updates them (Keras' advice
 * for fine-tuning; tfjs-layers would otherwise use batch statistics and update the moving averages).
 * Their gamma/beta still train when the layer is unfrozen.
 */
export function keepBatchNormInInference(model: tfl.LayersModel, names: Iterable<string>): void {
  for (const name of names) {
    const layer = model.getLayer(name);
    if (layer.getClassName() !== 'BatchNormalization' || patched.has(layer)) continue;
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
    patched.add(layer);
  }
}

/** Names of `model`'s layers that `keepBatchNormInInference` patched. */
export function batchNormsInInference(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => patched.has(l)).map((l) => l.name);
}
