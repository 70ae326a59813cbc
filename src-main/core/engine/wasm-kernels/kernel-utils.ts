import {
  backend_util,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type DataId,
  type DataType,
  type KernelBackend,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

/** The subset of the wasm backend's API the kernels rely on. */
export interface WasmBackendLike extends KernelBackend {
  incRef(dataId: DataId): void;
  disposeData(dataId: DataId, force?: boolean): boolean;
  numDataIds(): number;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): backend_util.TypedArray;
}

/**
 * Tracks intermediate TensorInfos produced by directly invoked wasm kernels
 * and releases them (backend refcount) when the composite kernel is done.
 * Kernels are called directly (not through the engine) so no Tensor objects,
 * tape entries or engine bookkeeping are created for intermediates.
 */
export class KernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: WasmBackendLike) {}

  /** Runs a registered wasm kernel and tracks its output for disposal. */
  run(kernelName: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(kernelName, 'wasm');
    if (kernel == null) throw new Error(`wasm-kernels: kernel '${kernelName}' is not registered for wasm`);
    const out = kernel.kernelFunc({ inputs: inputs as never, attrs, backend: this.backend });
    if (Array.isArray(out)) throw new Error(`wasm-kernels: '${kernelName}' returned several outputs`);
    this.owned.push(out);
    return out;
  }

  /** Tracks a TensorInfo made outside `run` (e.g. by a kernel function called directly) for disposal. */
  track(t: TensorInfo): TensorInfo {
    this.owned.push(t);
    return t;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Strided slice of a 4D tensor: begin/size per axis, stride on axes 1,2 (or given). */
  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    return this.run('StridedSlice', { x }, {
      begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
    });
  }

  /**
   * Pads (positive amounts) or crops (negative amounts) spatial axes 1 and 2
   * of an NHWC tensor: amounts are [top, bottom, left, right].
   */
  padOrCrop(x: TensorInfo, top: number, bottom: number, left: number, right: number): TensorInfo {
    let t = x;
    const p = [top, bottom, left, right].map((v) => Math.max(0, v));
    if (p.some((v) => v > 0)) {
      t = this.run('PadV2', { x: t }, { paddings: [[0, 0], [p[0], p[1]], [p[2], p[3]], [0, 0]], constantValue: 0 });
    }
    const c = [top, bottom, left, right].map((v) => Math.max(0, -v));
    if (c.some((v) => v > 0)) {
      const [n, h, w, ch] = t.shape;
      t = this.stridedSlice(t, [0, c[0], c[2], 0], [n, h - c[1], w - c[3], ch], [1, 1, 1, 1]);
    }
    return t;
  }

  /**
   * Inserts (s-1) zeros between the spatial elements of an NHWC tensor
   * ("fractional stride" upsampling used by transposed convolutions).
   * Result spatial size is ((h-1)*sH+1, (w-1)*sW+1).
   */
  zeroUpsample(x: TensorInfo, sH: number, sW: number): TensorInfo {
    if (sH === 1 && sW === 1) return x;
    const [n, h, w, c] = x.shape;
    const x6 = this.reshape(x, [n, h, 1, w, 1, c]);
    const p6 = this.run('PadV2', { x: x6 }, {
      paddings: [[0, 0], [0, 0], [0, sH - 1], [0, 0], [0, sW - 1], [0, 0]], constantValue: 0,
    });
    const up = this.reshape(p6, [n, h * sH, w * sW, c]);
    return this.padOrCrop(up, 0, -(sH - 1), 0, -(sW - 1));
  }

  /**
   * Disposes every tracked intermediate. `result` (if tracked) is kept alive:
   * its data gets an extra backend reference before the scope releases its own.
   */
  finish(result: TensorInfo): TensorInfo {
    this.backend.incRef(result.dataId);
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
    return { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  }

  /** Releases every tracked intermediate (used on error paths). */
  disposeAll(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/** Throws a clear error for NCHW data formats (only NHWC is supported). */
export function assertNHWC(kernelName: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`wasm-kernels: ${kernelName} supports only dataFormat 'NHWC' (got '${String(dataFormat)}')`);
  }
}

export type Pair = [number, number];

export function toPair(v: number | number[] | undefined | null, dflt = 1): Pair {
  if (v == null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0], v.length > 1 ? v[1] : v[0]];
}

export type ConvPad = backend_util.ExplicitPadding | 'valid' | 'same' | number;

/** A replacement of a built-in wasm kernel that hands the cases it does not speed up to the built-in. */
export interface KernelWithFallback {
  config: KernelConfig;
  /** Keeps the built-in kernel being replaced (called by registration before it is unregistered). */
  captureBuiltin(k: KernelConfig | null | undefined): void;
}

/** Wraps `impl` (which receives the built-in kernel to delegate to) as a wasm override of `kernelName`. */
export function kernelWithFallback<A>(kernelName: string, impl: (args: A, builtin: KernelConfig) => TensorInfo): KernelWithFallback {
  let builtin: KernelConfig | null = null;
  const config: KernelConfig = {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ((args: A) => {
      if (!builtin) throw new Error(`wasm-kernels: the built-in wasm ${kernelName} was not captured`);
      return impl(args, builtin);
    }) as unknown as KernelFunc,
    // The built-in binds its wasm function in its setup, which tfjs runs for the kernels registered when the
    // backend starts: ours is registered in its place, so it runs the built-in's setup.
    setupFunc: (backend) => builtin?.setupFunc?.(backend),
  };
  return {
    config,
    captureBuiltin(k) {
      if (k && k.kernelFunc !== config.kernelFunc) builtin = k;
    },
  };
}
