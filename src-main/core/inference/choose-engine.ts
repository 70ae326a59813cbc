import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { modelForPrediction } from '../familiarity/familiarity.ts';
import { cachedOnnx } from '../onnx/onnx-cache.ts';
import { loadOrt } from '../onnx/ort-session.ts';
import { onnxPredictor } from './onnx-predictor.ts';
import { tfjsPredictor, type Predictor } from './predictor.ts';

/** Which inference engine to use: onnxruntime when it works ('auto'), or one forced. */
export type EngineChoice = 'auto' | 'tfjs' | 'onnx';

/** The predictor chosen, and why. */
export interface ChosenEngine {
  predictor: Predictor;
  kind: 'tfjs' | 'onnx';
  /** e.g. "--engine auto", "--engine auto: onnx unavailable (…)". */
  reason: string;
}

/** Parses an --engine value; throws naming the allowed ones. */
export function parseEngineChoice(value: string | undefined, source = '--engine'): EngineChoice {
  const v = (value ?? 'auto').trim().toLowerCase();
  if (v === 'auto' || v === 'tfjs' || v === 'onnx') return v;
  throw new Error(`${source}: unknown engine "${value}"; use auto, tfjs or onnx`);
}

/**
 * Chooses the inference engine for a loaded model. 'onnx' converts it (cached by weights sha256 under
 * $CXR_HOME/onnx-cache/, checked against TensorFlow.js) and runs it in onnxruntime-node, throwing when
 * that fails; 'auto' does the same but falls back to TensorFlow.js with the reason; 'tfjs' never tries.
 * The tfjs model is disposed when the ONNX engine takes over.
 */
export async function chooseEngine(
  model: tfl.LayersModel, md: ModelMetadata, opts: { engine?: EngineChoice; threads?: number; cacheDir?: string } = {},
): Promise<ChosenEngine> {
  const choice = opts.engine ?? 'auto';
  if (choice === 'tfjs') return { predictor: tfjsPredictor(model, md), kind: 'tfjs', reason: '--engine tfjs' };
  try {
    await loadOrt().catch((e: Error) => {
      throw new Error(`onnxruntime-node does not load (${e.message.split('\n')[0]})`);
    });
    const { onnx, cached } = await cachedOnnx(modelForPrediction(model, md), md, opts.cacheDir);
    const predictor = await onnxPredictor(onnx, md, { threads: opts.threads });
    model.dispose();
    return { predictor, kind: 'onnx', reason: `--engine ${choice}${cached ? ', cached ONNX' : ', converted to ONNX'}` };
  } catch (e) {
    const why = (e as Error).message;
    if (choice === 'onnx') throw new Error(`--engine onnx: cannot run model ${md.id} in onnxruntime: ${why}; use --engine tfjs (or auto)`);
    return { predictor: tfjsPredictor(model, md), kind: 'tfjs', reason: `--engine auto: onnx unavailable (${why})` };
  }
}
