import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-conv2d-backprop-filter.ts';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-conv2d-backprop-input.ts';
import { avgPoolGradConfig, maxPoolGradConfig } from './pool-grad.ts';
import { batchMatMulKernel } from './batch-mat-mul.ts';
import type { KernelWithFallback } from './kernel-utils.ts';
import { sumKernel } from './sum.ts';

export { conv2dBackpropFilter, conv2dBackpropFilterTuning } from './conv2d-backprop-filter.ts';
export { conv2dBackpropInput } from './conv2d-backprop-input.ts';
export { depthwiseConv2dNativeBackpropFilter } from './depthwise-conv2d-backprop-filter.ts';
export { depthwiseConv2dNativeBackpropInput } from './depthwise-conv2d-backprop-input.ts';
export { avgPoolGrad, maxPoolGrad } from './pool-grad.ts';
export { sum } from './sum.ts';
export { batchMatMul } from './batch-mat-mul.ts';

/**
 * Kernels that tfjs-backend-wasm 4.22 lacks and that a training step of our
 * architectures (plain CNN, BatchNorm CNN, separable/depthwise CNN) needs.
 * Found by running trainOnBatch / optimizer.minimize steps on wasm and
 * collecting "Kernel 'X' not registered for backend 'wasm'" failures
 * (see discover-missing.ts).
 */
export const WASM_TRAINING_KERNELS: readonly string[] = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
];

/**
 * Built-in wasm kernels that exist but are slow and that we replace by default:
 * the built-in Conv2DBackpropInput is a scalar C loop (5-9x slower than ours);
 * the built-in MaxPoolGrad / AvgPoolGrad are scalar C loops about 3-6x / 3-5x
 * slower than ours on 2x2 pooling (ours are also bitwise identical to cpu); the built-in Sum
 * transposes the reduced axes innermost before reducing: ours sums leading axes (bias gradients)
 * as one matrix product, 10-20x faster, and falls back to the built-in otherwise; the built-in BatchMatMul is
 * 5-10x slower with transposed operands (Dense gradients): ours rewrites them as plain products.
 */
export const WASM_KERNEL_OVERRIDES: readonly string[] = ['Conv2DBackpropInput', 'MaxPoolGrad', 'AvgPoolGrad', 'Sum', 'BatchMatMul'];

const MISSING_CONFIGS: KernelConfig[] = [
  conv2dBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
];
/** Overrides that hand some cases to the built-in kernel they replace. */
const WITH_FALLBACK: KernelWithFallback[] = [sumKernel, batchMatMulKernel];
const OVERRIDE_CONFIGS: KernelConfig[] = [conv2dBackpropInputConfig, maxPoolGradConfig, avgPoolGradConfig, ...WITH_FALLBACK.map((k) => k.config)];
const OURS = new Set([...MISSING_CONFIGS, ...OVERRIDE_CONFIGS].map((c) => c.kernelFunc));

export interface RegisterWasmTrainingKernelsOptions {
  /** Replace slow built-in wasm kernels (WASM_KERNEL_OVERRIDES). Default true. */
  overrideSlowBuiltins?: boolean;
}

/**
 * Registers on the 'wasm' backend every training kernel it is missing
 * (WASM_TRAINING_KERNELS) and, unless disabled, our faster replacements of slow
 * built-ins (WASM_KERNEL_OVERRIDES). Idempotent; safe to call before or after
 * `tf.setBackend('wasm')`. Returns the kernel names registered by this call.
 */
export function registerWasmTrainingKernels(options: RegisterWasmTrainingKernelsOptions = {}): string[] {
  const registered: string[] = [];
  for (const config of MISSING_CONFIGS) {
    if (getKernel(config.kernelName, 'wasm') == null) {
      registerKernel(config);
      registered.push(config.kernelName);
    }
  }
  if (options.overrideSlowBuiltins ?? true) {
    for (const config of OVERRIDE_CONFIGS) {
      const existing = getKernel(config.kernelName, 'wasm');
      if (existing != null && OURS.has(existing.kernelFunc)) continue;
      WITH_FALLBACK.find((k) => k.config === config)?.captureBuiltin(existing);
      if (existing != null) unregisterKernel(config.kernelName, 'wasm');
      registerKernel(config);
      registered.push(config.kernelName);
    }
  }
  return registered;
}
