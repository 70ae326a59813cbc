import type { ModelMetadata } from '../../../src-shared/types.ts';
import { calibrateAll } from '../evaluation/calibrate.ts';
import { openOrtSession } from '../onnx/ort-session.ts';
import type { Predictor } from './predictor.ts';

/**
 * Runs an ONNX export of a model in onnxruntime-node (CPU, `threads` intra-op threads) as a
 * Predictor: sigmoid or softmax head → P(positive), then the model's calibration, as `tfjsPredictor`.
 */
export async function onnxPredictor(onnx: Uint8Array, md: ModelMetadata, opts: { threads?: number } = {}): Promise<Predictor> {
  const session = await openOrtSession(onnx, opts.threads);
  const { height, width, channels } = md.input;
  const positive = md.classNames.indexOf(md.positiveClass);
  return {
    engine: `onnxruntime-node ${session.version} cpu, ${session.threads} thread${session.threads === 1 ? '' : 's'}`,
    async predict(batch, n) {
      const y = await session.run(batch, [n, height, width, channels]);
      const k = y.dims[1] ?? 1;
      const out = new Float32Array(n);
      const col = md.output === 'softmax' || k > 1 ? positive : 0;
      for (let i = 0; i < n; i++) out[i] = y.data[i * k + col];
      calibrateAll(md.calibration, out);
      return out;
    },
    dispose() {
      session.release().catch(() => undefined);
    },
  };
}
