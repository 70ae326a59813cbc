import {
  backend_util,
  Conv2DBackpropFilter,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { assertNHWC, KernelScope, toPair, type ConvPad, type WasmBackendLike } from './kernel-utils.ts';

/**
 * Input channel count from which the "filter-as-convolution" strategy is used
 * (one big XNNPACK convolution); below it, one matMul per kernel offset is cheaper.
 * Mutable for benchmarking.
 */
export const conv2dBackpropFilterTuning = { convStrategyMinInChannels: 8 };

/**
 * Gradient of conv2d with respect to its filter, NHWC, for the wasm backend.
 *
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sH + kh*dH - top, ow*sW + kw*dW - left, ci] * dy[n,oh,ow,co]
 *
 * Strategy A (inC >= threshold): this is itself a convolution, with batch = ci,
 * channels = n, "filter" = dy (dilated by the forward stride) and stride = forward
 * dilation: conv2d(xT[ci,H,W,n], dyT[oH,oW,n,co]) -> [ci,kh,kw,co].
 * Strategy B: for each (kh,kw) a strided slice of channel-major x times dy as
 * one matMul [ci, K] x [K, co].
 * Supports strides, 'same' / 'valid' / explicit padding and an optional
 * `dilations` attribute (tfjs-core itself never passes one).
 */
export function conv2dBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  assertNHWC(Conv2DBackpropFilter, attrs.dataFormat);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const [sH, sW] = toPair(attrs.strides as number | number[]);
  const [dH, dW] = toPair(attrs.dilations as number | number[] | undefined);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, [sH, sW], [dH, dW],
    attrs.pad as ConvPad, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, false, 'channelsLast');
  const { batchSize: n, inHeight: inH, inWidth: inW, inChannels: ci, outChannels: co, outHeight: oH, outWidth: oW } = info;
  const [kH, kW] = [filterShape[0], filterShape[1]];
  if (dy.shape[1] !== oH || dy.shape[2] !== oW || dy.shape[3] !== co) {
    throw new Error(`wasm-kernels: Conv2DBackpropFilter dy shape ${dy.shape} does not match expected [${n},${oH},${oW},${co}]`);
  }
  const scope = new KernelScope(backend);
  try {
    // Crop/pad x to exactly the rows/cols the forward conv touched.
    const usedH = (oH - 1) * sH + (kH - 1) * dH + 1;
    const usedW = (oW - 1) * sW + (kW - 1) * dW + 1;
    const { top, left } = info.padInfo;
    const xp = scope.padOrCrop(x, top, usedH - inH - top, left, usedW - inW - left);
    let result: TensorInfo;
    if (ci >= conv2dBackpropFilterTuning.convStrategyMinInChannels) {
      const xT = scope.transpose(xp, [3, 1, 2, 0]); // [ci, usedH, usedW, n]
      const dyT = scope.transpose(dy, [1, 2, 0, 3]); // [oH, oW, n, co]
      const r = scope.run('Conv2D', { x: xT, filter: dyT }, {
        strides: [dH, dW], dilations: [sH, sW], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined as never,
      }); // [ci, kH, kW, co]
      result = scope.transpose(r, [1, 2, 0, 3]);
    } else {
      const xT = scope.transpose(xp, [3, 0, 1, 2]); // [ci, n, usedH, usedW]
      const k = n * oH * oW;
      const dy3 = scope.reshape(dy, [1, k, co]);
      const parts: TensorInfo[] = [];
      for (let i = 0; i < kH; i++) {
        for (let j = 0; j < kW; j++) {
          const r0 = i * dH;
          const c0 = j * dW;
          const xs = scope.stridedSlice(xT, [0, 0, r0, c0], [ci, n, r0 + (oH - 1) * sH + 1, c0 + (oW - 1) * sW + 1], [1, 1, sH, sW]);
          const xs3 = scope.reshape(xs, [1, ci, k]);
          parts.push(scope.run('BatchMatMul', { a: xs3, b: dy3 }, { transposeA: false, transposeB: false }));
        }
      }
      const stacked = parts.length === 1 ? parts[0] : scope.run('Concat', parts, { axis: 0 });
      result = scope.reshape(stacked, [kH, kW, ci, co]);
    }
    return scope.finish(result);
  } catch (e) {
    scope.disposeAll();
    throw e;
  }
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as KernelFunc,
};
