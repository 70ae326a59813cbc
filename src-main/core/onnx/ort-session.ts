// onnxruntime-node, loaded lazily (it is a large native module; a machine where it cannot load
// falls back to TensorFlow.js), and sessions over ONNX bytes on the CPU.
import os from 'node:os';
import type * as Ort from 'onnxruntime-node';

let loaded: Promise<typeof Ort> | null = null;

/** Imports onnxruntime-node once; rejects with the reason it cannot load. */
export function loadOrt(): Promise<typeof Ort> {
  loaded ??= import('onnxruntime-node');
  return loaded;
}

/** onnxruntime-node's version ("1.30.0"), or null when it cannot load. */
export async function ortVersion(): Promise<string | null> {
  try {
    const ort = await loadOrt();
    return ort.env.versions.node ?? ort.env.versions.common ?? null;
  } catch {
    return null;
  }
}

/** A CPU session over one ONNX model with a single float32 input and output. */
export interface OrtSession {
  threads: number;
  version: string;
  /** Runs a batch [n, …inputShape] and returns the output values and shape. */
  run(batch: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: number[] }>;
  release(): Promise<void>;
}

/** Default intra-op threads: the machine's cores, at most 8. */
export function defaultOrtThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}

/** Opens an onnxruntime CPU session on ONNX bytes (intra-op `threads`, sequential, all graph optimisations). */
export async function openOrtSession(onnx: Uint8Array, threads = defaultOrtThreads()): Promise<OrtSession> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  return {
    threads,
    version: ort.env.versions.node ?? ort.env.versions.common,
    async run(batch, dims) {
      const result = await session.run({ [input]: new ort.Tensor('float32', batch, dims) });
      const t = result[output];
      return { data: t.data as Float32Array, dims: t.dims.slice() };
    },
    release: () => session.release(),
  };
}
