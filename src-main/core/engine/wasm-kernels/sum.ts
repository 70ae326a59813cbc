import { Sum, util, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelScope, kernelWithFallback, type WasmBackendLike } from './kernel-utils.ts';

/** Smallest reduction (elements) worth a matrix product: below it the built-in is as fast. */
const MIN_SIZE = 4096;

/**
 * Sum over the leading axes of a float32 tensor (bias gradients: NHWC summed over [0, 1, 2]), 10-20x faster
 * than the built-in wasm Sum, which first transposes the reduced axes innermost. The input, seen as
 * [n, m, 1, C] (n = the first axis when two or more lead, else 1; m = the other reduced sizes), is averaged
 * over [m, 1] windows by XNNPACK's average pooling, the n rows are summed and the result scaled by m.
 * (A matrix product with a ones vector is fast only when XNNPACK has already packed the operand: each
 * gradient is a fresh tensor, so it is not.) Every other case (other axes, other dtypes, small inputs)
 * goes to the built-in kernel.
 */
export function sum(args: { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }, base: KernelConfig): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const k = axes.length;
  const leading = k > 0 && k < x.shape.length && axes.every((a, i) => a === i);
  const size = util.sizeFromShape(x.shape);
  const n = k >= 2 ? x.shape[0] : 1;
  const rows = util.sizeFromShape(x.shape.slice(0, k));
  const m = rows / n;
  if (!leading || x.dtype !== 'float32' || size < MIN_SIZE || m < 16) return base.kernelFunc(args as never) as TensorInfo;
  const rest = x.shape.slice(k);
  const cols = util.sizeFromShape(rest);
  const scope = new KernelScope(backend);
  try {
    const x4 = scope.reshape(x, [n, m, 1, cols]);
    const mean = scope.run('AvgPool', { x: x4 }, { filterSize: [m, 1], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined as never });
    const perRow = scope.reshape(mean, [n, cols]);
    const total = n > 1
      ? scope.track(base.kernelFunc({ inputs: { x: perRow }, backend, attrs: { axis: [0], keepDims: false } } as never) as TensorInfo)
      : scope.reshape(perRow, [cols]);
    const scale = scope.run('Fill', {}, { shape: [], value: m, dtype: 'float32' });
    const s = scope.run('Multiply', { a: total, b: scale });
    const outShape = attrs.keepDims ? [...axes.map(() => 1), ...rest] : rest;
    return scope.finish(scope.reshape(s, outShape));
  } catch (e) {
    scope.disposeAll();
    throw e;
  }
}

/** Our Sum, registered in place of the built-in (which it falls back to). */
export const sumKernel = kernelWithFallback(Sum, sum);
