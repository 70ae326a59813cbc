import { BatchMatMul, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelScope, kernelWithFallback, type WasmBackendLike } from './kernel-utils.ts';

/**
 * BatchMatMul with transposed operands, for the wasm backend. The built-in handles transposeA/transposeB
 * 5-10x slower than a plain product (the Dense-layer gradients of a training step: dy·Wᵀ and xᵀ·dy), and
 * XNNPACK re-packs the right-hand operand on every call, so the big operand should sit on the left:
 *   Aᵀ·B  = transpose(A)·B               (A is the activations: small)
 *   A·Bᵀ  = (B·Aᵀ)ᵀ                       (B is the weights: left operand, no transpose of it)
 *   Aᵀ·Bᵀ = (B·A)ᵀ
 * Plain products go straight to the built-in kernel.
 */
export function batchMatMul(args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: WasmBackendLike; attrs: NamedAttrMap }, base: KernelConfig): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const ta = !!attrs.transposeA;
  const tb = !!attrs.transposeB;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if ((!ta && !tb) || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || !sameOuter) {
    return base.kernelFunc(args as never) as TensorInfo;
  }
  const batch = outerA.reduce((x, y) => x * y, 1);
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const scope = new KernelScope(backend);
  const mm = (x: TensorInfo, y: TensorInfo) =>
    scope.track(base.kernelFunc({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } } as never) as TensorInfo);
  try {
    const a3 = scope.reshape(a, [batch, ra, ca]);
    const b3 = scope.reshape(b, [batch, rb, cb]);
    let result: TensorInfo;
    if (ta && !tb) result = mm(scope.transpose(a3, [0, 2, 1]), b3);
    else if (!ta && tb) result = scope.transpose(mm(b3, scope.transpose(a3, [0, 2, 1])), [0, 2, 1]);
    else result = scope.transpose(mm(b3, a3), [0, 2, 1]);
    return scope.finish(scope.reshape(result, [...outerA, ta ? ca : ra, tb ? rb : cb]));
  } catch (e) {
    scope.disposeAll();
    throw e;
  }
}

/** Our BatchMatMul, registered in place of the built-in (which it delegates to). */
export const batchMatMulKernel = kernelWithFallback(BatchMatMul, batchMatMul);
