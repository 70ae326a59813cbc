import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Multiply–adds × 2 per image for the layers that dominate compute (Conv2D, DepthwiseConv2D,
 * SeparableConv2D, Dense); element-wise layers and pooling are ignored.
 */
export function flopsPerImage(model: tfl.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = layer.outputShape as number[];
    const inp = layer.inputSpec?.[0]?.shape ?? (layer.input as { shape: number[] } | undefined)?.shape ?? [];
    const cfg = layer.getConfig() as { kernelSize?: number[]; filters?: number; units?: number; depthMultiplier?: number };
    if (cls === 'Conv2D' || cls === 'Conv2DTranspose') {
      const [kh, kw] = cfg.kernelSize ?? [1, 1];
      flops += 2 * out[1] * out[2] * kh * kw * (inp[3] ?? 1) * (cfg.filters ?? out[3]);
    } else if (cls === 'DepthwiseConv2D') {
      const [kh, kw] = cfg.kernelSize ?? [1, 1];
      flops += 2 * out[1] * out[2] * kh * kw * out[3];
    } else if (cls === 'SeparableConv2D') {
      const [kh, kw] = cfg.kernelSize ?? [1, 1];
      const cin = inp[3] ?? 1;
      const mid = cin * (cfg.depthMultiplier ?? 1);
      flops += 2 * out[1] * out[2] * (kh * kw * mid + mid * out[3]);
    } else if (cls === 'Dense') {
      flops += 2 * (inp[inp.length - 1] ?? 0) * (cfg.units ?? out[out.length - 1]);
    }
  }
  return flops;
}
