import type { ModelMetadata } from '../../../src-shared/types.ts';
import { openOrtSession } from '../onnx/ort-session.ts';
import { familiarityCenter, scoresFromRows, type Predictor } from './predictor.ts';

/**
 * Runs an ONNX export of a model in onnxruntime-node (CPU, `threads` intra-op threads) as a
 * Predictor: sigmoid or softmax head → P(positive), then the model's calibration, as `tfjsPredictor`. The export
 * must be of `modelForPrediction`'s model, so that it carries the familiarity feature when the model has one.
 */
export async function onnxPredictor(onnx: Uint8Array, md: ModelMetadata, opts: { threads?: number } = {}): Promise<Predictor> {
  const session = await openOrtSession(onnx, opts.threads);
  const { height, width, channels } = md.input;
  const center = familiarityCenter(md);
  return {
    engine: `onnxruntime-node ${session.version} cpu, ${session.threads} thread${session.threads === 1 ? '' : 's'}`,
    async predict(batch, n) {
      const y = await session.run(batch, [n, height, width, channels]);
      return scoresFromRows(y.data, n, md, center);
    },
    dispose() {
      session.release().catch(() => undefined);
    },
  };
}
