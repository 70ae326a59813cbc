import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export type Arch = 'plain' | 'batchnorm' | 'separable';

/**
 * Builds one of the three reference architectures at a configurable size:
 * plain = seed-like CNN (4x conv3x3+relu+maxpool, flatten, dropout, dense, sigmoid),
 * batchnorm = conv+BN+ReLU blocks with L2 + global average pooling,
 * separable = SeparableConv2D + strided DepthwiseConv2D + AveragePooling2D.
 */
export function buildModel(arch: Arch, size: number, filters: number[] = [4, 8, 8, 8], dense = 16): tfl.LayersModel {
  const m = tfl.sequential();
  // Seeded initial weights: the same model every run, so a numerical comparison passes or fails for good.
  let seed = 1;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  if (arch === 'plain') {
    filters.forEach((f, i) => {
      m.add(tfl.layers.conv2d({ ...(i === 0 ? { inputShape: [size, size, 1] } : {}), filters: f, kernelSize: 3, activation: 'relu', kernelInitializer: init() }));
      m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    });
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dropout({ rate: 0.5, seed: 7 }));
    m.add(tfl.layers.dense({ units: dense, activation: 'relu', kernelInitializer: init() }));
    m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init() }));
  } else if (arch === 'batchnorm') {
    const reg = () => tfl.regularizers.l2({ l2: 1e-2 });
    m.add(tfl.layers.conv2d({ inputShape: [size, size, 1], filters: filters[0], kernelSize: 3, padding: 'same', useBias: false, kernelRegularizer: reg(), kernelInitializer: init() }));
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.reLU());
    m.add(tfl.layers.conv2d({ filters: filters[1], kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelRegularizer: reg(), kernelInitializer: init() }));
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.reLU());
    m.add(tfl.layers.globalAveragePooling2d({}));
    m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelRegularizer: reg(), kernelInitializer: init() }));
  } else {
    m.add(tfl.layers.conv2d({ inputShape: [size, size, 1], filters: filters[0], kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init() }));
    m.add(tfl.layers.separableConv2d({ filters: filters[1], kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu', depthwiseInitializer: init(), pointwiseInitializer: init() }));
    m.add(tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', depthwiseInitializer: init() }));
    m.add(tfl.layers.averagePooling2d({ poolSize: 2 }));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init() }));
  }
  return m;
}

/** Loss of one training step: mean binary cross-entropy plus regularization losses. */
export function trainingLoss(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const pred = model.apply(x, { training: true }) as tf.Tensor;
    let loss = tf.mean(tfl.metrics.binaryCrossentropy(y, pred)) as tf.Scalar;
    for (const layer of model.layers) {
      const l = layer as unknown as { kernelRegularizer?: { apply(t: tf.Tensor): tf.Scalar }; kernel?: { read(): tf.Tensor } };
      if (l.kernelRegularizer && l.kernel) loss = tf.add(loss, l.kernelRegularizer.apply(l.kernel.read()));
    }
    return loss;
  });
}
