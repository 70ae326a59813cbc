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
  // A share whose samples all weigh 0 (possible with per-sample weights) gives 0, not 0 / 0.
  return tf.div(tf.sum(tf.mul(l, w)), tf.maximum(tf.sum(w), 1e-12)) as tf.Scalar;
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

/**
 * Loss and gradients of a batch (HWC floats in `buf`, `labels.length` images) taken in near-equal micro-batches
 * of at most `micro` images: each chunk's loss is normalised by its class-weight sum W_k, so weighting its gradient
 * by W_k / W gives the whole batch's gradient. `beforeChunk(k)` runs before chunk k (it may throw to cancel,
 * the partial sums are then disposed, or wait, e.g. to let the event loop see a cancel). The caller owns the
 * returned gradients.
 */
export async function microBatchGradients(
  model: tfl.LayersModel, vars: tf.Variable[], buf: Float32Array, shape: [number, number, number], labels: number[], weights: number[], micro: number,
  beforeChunk?: (k: number) => void | Promise<void>,
): Promise<{ loss: number; grads: (tf.Tensor | null)[] }> {
  const size = shape[0] * shape[1] * shape[2];
  const W = weights.reduce((a, b) => a + b, 0);
  let acc: (tf.Tensor | null)[] = vars.map(() => null);
  let loss = 0;
  // Even chunks (16 at most 5 → 4 + 4 + 4 + 4, not 5 + 5 + 5 + 1): as many passes, a shorter longest one.
  const step = Math.ceil(labels.length / Math.ceil(labels.length / Math.max(1, Math.floor(micro))));
  try {
    for (let s = 0; s < labels.length; s += step) {
      await beforeChunk?.(s / step);
      const e = Math.min(labels.length, s + step);
      const f = weights.slice(s, e).reduce((a, b) => a + b, 0) / W;
      const x = tf.tensor4d(buf.subarray(s * size, e * size), [e - s, ...shape]);
      const y = tf.tensor2d(labels.slice(s, e), [e - s, 1]);
      const w = tf.tensor2d(weights.slice(s, e), [e - s, 1]);
      const r = shareGradients(model, vars, x, y, w);
      tf.dispose([x, y, w]);
      loss += r.loss * f;
      acc = acc.map((a, i) => {
        const g = r.grads[i];
        if (!g) return a;
        if (!a && f === 1) return g; // the whole batch in one pass
        const next = tf.tidy(() => (a ? tf.add(a, tf.mul(g, f)) : tf.mul(g, f)));
        tf.dispose([a, g].filter((t): t is tf.Tensor => t != null));
        return next;
      });
    }
  } catch (e) {
    tf.dispose(acc.filter((t): t is tf.Tensor => t != null));
    throw e;
  }
  return { loss, grads: acc };
}

/** A `beforeChunk` for the main thread: from the second chunk on, yields to the event loop (so a cancel can
 * arrive), then throws `cancelled()` if `signal` is aborted. */
export function yieldAndCheck(signal: AbortSignal | undefined, cancelled: () => Error): (k: number) => Promise<void> {
  return async (k) => {
    if (k > 0) await new Promise((r) => setImmediate(r));
    if (signal?.aborted) throw cancelled();
  };
}
