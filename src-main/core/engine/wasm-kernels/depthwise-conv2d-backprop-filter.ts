import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { assertNHWC, KernelScope, toPair, type ConvPad, type WasmBackendLike } from './kernel-utils.ts';

/**
 * Gradient of depthwiseConv2d with respect to its filter [kh, kw, C, M], NHWC,
 * for the wasm backend: for each kernel offset, a strided slice of the padded
 * input is multiplied (broadcast over the channel multiplier M) with dy viewed
 * as [N, oH, oW, C, M] and reduced over N, oH, oW. All work happens in wasm
 * kernels (StridedSlice, Multiply, Sum); supports strides, dilations and
 * 'same' / 'valid' / explicit padding.
 */
export function depthwiseConv2dNativeBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  assertNHWC(DepthwiseConv2dNativeBackpropFilter, attrs.dataFormat);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const [sH, sW] = toPair(attrs.strides as number | number[]);
  const [dH, dW] = toPair(attrs.dilations as number | number[] | undefined);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, [sH, sW], [dH, dW],
    attrs.pad as ConvPad, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, true, 'channelsLast');
  const { batchSize: n, inHeight: inH, inWidth: inW, inChannels: c, outHeight: oH, outWidth: oW } = info;
  const [kH, kW, , m] = filterShape;
  const scope = new KernelScope(backend);
  try {
    const usedH = (oH - 1) * sH + (kH - 1) * dH + 1;
    const usedW = (oW - 1) * sW + (kW - 1) * dW + 1;
    const { top, left } = info.padInfo;
    const xp = scope.padOrCrop(x, top, usedH - inH - top, left, usedW - inW - left);
    const dy2 = scope.reshape(dy, [n * oH * oW, c, m]);
    const parts: TensorInfo[] = [];
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const r0 = i * dH;
        const c0 = j * dW;
        const xs = scope.stridedSlice(xp, [0, r0, c0, 0], [n, r0 + (oH - 1) * sH + 1, c0 + (oW - 1) * sW + 1, c], [1, sH, sW, 1]);
        const xs3 = scope.reshape(xs, [n * oH * oW, c, 1]);
        const prod = scope.run('Multiply', { a: xs3, b: dy2 }); // broadcast over m
        parts.push(scope.run('Sum', { x: prod }, { axis: [0], keepDims: true })); // [1, c, m]
      }
    }
    const stacked = parts.length === 1 ? parts[0] : scope.run('Concat', parts, { axis: 0 });
    return scope.finish(scope.reshape(stacked, [kH, kW, c, m]));
  } catch (e) {
    scope.disposeAll();
    throw e;
  }
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
