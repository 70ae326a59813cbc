// VGG19 conv base built in code with the Keras applications layer names (block1_conv1 … block5_pool),
// and a loader for Keras' ImageNet weight file `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`
// (weights only: a group per layer with a `weight_names` attribute). The file is never downloaded.
// Preprocessing: Keras "caffe" mode (RGB→BGR, ImageNet means subtracted, no scaling) = our `imagenet`.
import * as tfl from '@tensorflow/tfjs-layers';
import { getGroup, openH5 } from '../interchange/h5-file.ts';
import { loadKeras2Weights } from '../interchange/keras-weights.ts';

/** Filters and convolutions per block. */
const BLOCKS: Array<[number, number]> = [[64, 2], [128, 2], [256, 4], [512, 4], [512, 4]];

/** The last layer of the conv base. */
export const VGG19_CUT = 'block5_pool';

/** Builds the VGG19 conv base (no top); `widthDivisor` shrinks every block's filters (tests only). */
export function buildVgg19(inputSize = 224, widthDivisor = 1): tfl.LayersModel {
  const input = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x = input;
  BLOCKS.forEach(([filters, convs], b) => {
    for (let i = 1; i <= convs; i++) {
      x = tfl.layers.conv2d({ filters: Math.max(1, filters / widthDivisor), kernelSize: 3, padding: 'same', activation: 'relu', name: `block${b + 1}_conv${i}` }).apply(x) as tfl.SymbolicTensor;
    }
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }).apply(x) as tfl.SymbolicTensor;
  });
  return tfl.model({ inputs: input, outputs: x, name: 'vgg19' });
}

/** Loads a Keras weights-only VGG19 file (e.g. vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5) into `model`. */
export async function loadVgg19Weights(model: tfl.LayersModel, file: string): Promise<void> {
  const f = await openH5(file);
  try {
    if (!getGroup(f, 'block1_conv1') && !getGroup(f, 'model_weights/block1_conv1')) {
      throw new Error(`${file}: no "block1_conv1" weights; this is not a Keras VGG19 weight file (use vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5)`);
    }
    loadKeras2Weights(model, f, file);
  } finally {
    f.close();
  }
}
