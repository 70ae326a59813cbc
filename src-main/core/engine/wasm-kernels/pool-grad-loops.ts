import { backend_util, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

/** Geometry of a 2D pooling (NHWC, dilation 1) as used by the gradient loops. */
export interface PoolGeometry {
  n: number; h: number; w: number; c: number;
  oh: number; ow: number;
  fh: number; fw: number;
  sh: number; sw: number;
  top: number; left: number;
}

/**
 * Pooling geometry of a MaxPoolGrad / AvgPoolGrad call, computed exactly like
 * tfjs' cpu kernels (computePool2DInfo with dilation 1, so 'same' / 'valid' /
 * numeric padding and dimRoundingMode are honoured). Validates that x and dy
 * are float32 NHWC tensors and that dy has the pooled shape.
 */
export function poolGeometry(kernelName: string, x: TensorInfo, dy: TensorInfo, attrs: NamedAttrMap): PoolGeometry {
  if (x.shape.length !== 4) throw new Error(`wasm-kernels: ${kernelName} expects a rank-4 NHWC input (got ${x.shape})`);
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`wasm-kernels: ${kernelName} supports float32 only (got ${x.dtype} / ${dy.dtype})`);
  }
  const info = backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const [n, oh, ow, c] = info.outShape;
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== info.outShape[i])) {
    throw new Error(`wasm-kernels: ${kernelName} dy shape ${dy.shape} does not match pooled shape ${info.outShape}`);
  }
  return {
    n, h: info.inHeight, w: info.inWidth, c, oh, ow,
    fh: info.effectiveFilterHeight, fw: info.effectiveFilterWidth,
    sh: info.strideHeight, sw: info.strideWidth,
    top: info.padInfo.top, left: info.padInfo.left,
  };
}

/** True when no two pooling windows share an input element (stride >= window). */
function disjointWindows(g: PoolGeometry): boolean {
  return g.sh >= g.fh && g.sw >= g.fw;
}

/**
 * MaxPoolGrad over raw NHWC float32 arrays with tfjs cpu semantics: in each
 * window (clipped to the image, padding ignored) the gradient goes to the first
 * element in row-major window order that is strictly greater than all earlier
 * ones (so ties, e.g. all-zero windows after ReLU, pick the first; NaN never
 * wins; an all -Infinity / all NaN window passes no gradient). Overlapping
 * windows accumulate in float64 per image and are rounded once, in the same
 * order as the cpu kernel, so results are bitwise identical.
 */
export function maxPoolGradLoop(x: Float32Array, dy: Float32Array, dx: Float32Array, g: PoolGeometry): void {
  const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = g;
  const img = h * w * c;
  const rowStride = w * c;
  const acc = disjointWindows(g) ? null : new Float64Array(img);
  if (acc == null) dx.fill(0);
  for (let b = 0; b < n; b++) {
    const xb = b * img;
    if (acc != null) acc.fill(0);
    for (let oy = 0; oy < oh; oy++) {
      const r0 = oy * sh - top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(h, r0 + fh);
      for (let ox = 0; ox < ow; ox++) {
        const c0 = ox * sw - left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(w, c0 + fw);
        const p0 = xb + (rMin * w + cMin) * c;
        const dyBase = ((b * oh + oy) * ow + ox) * c;
        const full2x2 = rMax - rMin === 2 && cMax - cMin === 2;
        for (let k = 0; k < c; k++) {
          let m = -Infinity;
          let i = -1;
          if (full2x2) { // unrolled common case (2x2 pooling)
            const a = p0 + k;
            let v = x[a];
            if (v > m) { m = v; i = a; }
            v = x[a + c];
            if (v > m) { m = v; i = a + c; }
            v = x[a + rowStride];
            if (v > m) { m = v; i = a + rowStride; }
            v = x[a + rowStride + c];
            if (v > m) { i = a + rowStride + c; }
          } else {
            for (let r = rMin; r < rMax; r++) {
              const rb = xb + r * rowStride + k;
              for (let col = cMin; col < cMax; col++) {
                const v = x[rb + col * c];
                if (v > m) { m = v; i = rb + col * c; }
              }
            }
          }
          if (i < 0) continue;
          if (acc == null) dx[i] = 0 + dy[dyBase + k];
          else acc[i - xb] += dy[dyBase + k];
        }
      }
    }
    if (acc != null) dx.set(acc, xb);
  }
}

/**
 * AvgPoolGrad over raw NHWC float32 arrays with tfjs cpu semantics: every image
 * element of a window receives dy / (filterHeight * filterWidth) (padding
 * counts in the divisor, as in tfjs). Overlapping windows are summed in float64
 * and scaled once, like the cpu kernel, so results are bitwise identical.
 */
export function avgPoolGradLoop(dy: Float32Array, dx: Float32Array, g: PoolGeometry): void {
  const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = g;
  const img = h * w * c;
  const mult = 1 / (fh * fw);
  const acc = disjointWindows(g) ? null : new Float64Array(img);
  if (acc == null) dx.fill(0);
  for (let b = 0; b < n; b++) {
    const xb = b * img;
    if (acc != null) acc.fill(0);
    for (let oy = 0; oy < oh; oy++) {
      const r0 = oy * sh - top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(h, r0 + fh);
      for (let ox = 0; ox < ow; ox++) {
        const c0 = ox * sw - left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(w, c0 + fw);
        const dyBase = ((b * oh + oy) * ow + ox) * c;
        for (let r = rMin; r < rMax; r++) {
          for (let col = cMin; col < cMax; col++) {
            const base = (r * w + col) * c;
            if (acc == null) {
              for (let k = 0; k < c; k++) dx[xb + base + k] = (0 + dy[dyBase + k]) * mult;
            } else {
              for (let k = 0; k < c; k++) acc[base + k] += dy[dyBase + k];
            }
          }
        }
      }
    }
    if (acc != null) {
      for (let i = 0; i < img; i++) dx[xb + i] = acc[i] * mult;
    }
  }
}
