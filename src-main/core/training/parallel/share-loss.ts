import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Class-weighted binary cross-entropy: sum(w · bce(p, y)) / sum(w), probabilities clipped to [1e-7, 1 - 1e-7].
 * Because it is normalised by sum(w), a batch split into shares k with weight sums W_k has
 * L = Σ_k (W_k / W) · L_k, and so the same for the gradients.
 */
export function weightedBce(p: tf.Tensor, y: tf.Tensor, w: tf.Tensor): tf.Scalar {
  const eps = 1e-7;
  const pc = tf.clipByValue(p, eps, 1 - eps);
  const l = tf.neg(tf.add(tf.mul(y, tf.log(pc)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, pc)))));
  return tf.div(tf.sum(tf.mul(l, w)), tf.sum(w)) as tf.Scalar;
}

/** The training loss of fit.ts: weighted BCE of a forward pass in training mode plus the model's regularisers. */
export function trainingLoss(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor, w: tf.Tensor): tf.Scalar {
  const p = model.apply(x, { training: true }) as tf.Tensor;
  let total = weightedBce(p, y, w);
  for (const r of model.calculateLosses()) total = tf.add(total, r) as tf.Scalar;
  return total;
}

/** The tf.Variables of `model.weights[i]` for the given indices. */
export function variablesAt(model: tfl.LayersModel, indices: number[]): tf.Variable[] {
  return indices.map((i) => model.weights[i].read() as tf.Variable);
}

/**
 * Loss and gradients of `trainingLoss` on one share of a batch w.r.t. `vars` (null where a variable does not
 * reach the loss). Runs the forward pass in training mode, so BatchNorm layers update their moving statistics.
 * The caller owns (and disposes) the returned gradients.
 */
export function shareGradients(model: tfl.LayersModel, vars: tf.Variable[], x: tf.Tensor, y: tf.Tensor, w: tf.Tensor): { loss: number; grads: (tf.Tensor | null)[] } {
  const { value, grads } = tf.variableGrads(() => trainingLoss(model, x, y, w), vars);
  const loss = value.dataSync()[0];
  value.dispose();
  return { loss, grads: vars.map((v) => grads[v.name] ?? null) };
}
