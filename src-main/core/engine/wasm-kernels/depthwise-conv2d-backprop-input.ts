import {
  backend_util,
  DepthwiseConv2dNativeBackpropInput,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { assertNHWC, KernelScope, toPair, type ConvPad, type WasmBackendLike } from './kernel-utils.ts';

/**
 * Gradient of depthwiseConv2d with respect to its input, NHWC, for the wasm
 * backend: dy is zero-upsampled by the stride and padded for a "full"
 * correlation, then one wasm (XNNPACK) depthwise convolution with the filter
 * rotated by 180 degrees (viewed as [kh, kw, C*M, 1], dilated like the forward
 * pass) produces [N, H, W, C*M], which is summed over the channel multiplier M.
 */
export function depthwiseConv2dNativeBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: WasmBackendLike;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  assertNHWC(DepthwiseConv2dNativeBackpropInput, attrs.dataFormat);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const [sH, sW] = toPair(attrs.strides as number | number[]);
  const [dH, dW] = toPair(attrs.dilations as number | number[] | undefined);
  const filterShape = filter.shape as [number, number, number, number];
  const info = backend_util.computeConv2DInfo(
    inputShape, filterShape, [sH, sW], [dH, dW],
    attrs.pad as ConvPad, attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, true, 'channelsLast');
  const { batchSize: n, inHeight: inH, inWidth: inW, inChannels: c } = info;
  const [kH, kW, , m] = filterShape;
  const scope = new KernelScope(backend);
  try {
    const up = scope.zeroUpsample(dy, sH, sW);
    const eH = (kH - 1) * dH;
    const eW = (kW - 1) * dW;
    const pt = eH - info.padInfo.top;
    const pl = eW - info.padInfo.left;
    const dyP = scope.padOrCrop(up, pt, inH + eH - pt - up.shape[1], pl, inW + eW - pl - up.shape[2]);
    const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
    const f = scope.reshape(flipped, [kH, kW, c * m, 1]);
    const conv = scope.run('DepthwiseConv2dNative', { x: dyP, filter: f }, {
      strides: [1, 1], dilations: [dH, dW], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined as never,
    }); // [n, inH, inW, c*m]
    let dx = conv;
    if (m > 1) {
      const c5 = scope.reshape(conv, [n, inH, inW, c, m]);
      dx = scope.run('Sum', { x: c5 }, { axis: [4], keepDims: false });
    }
    return scope.finish(dx);
  } catch (e) {
    scope.disposeAll();
    throw e;
  }
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
