import type { ClassifyRecord, EngineInfo, FileFailure, ModelMetadata } from '../../../src-shared/types.ts';
import { loadForModel, type PreprocessOptions } from '../imaging/preprocess.ts';
import { ImageError, toFileFailure } from '../imaging/image-error.ts';
import { unfamiliarDetail } from '../familiarity/familiarity.ts';
import type { Predictor } from '../inference/predictor.ts';

/** What a batch classification needs. */
export interface ClassifyOptions {
  files: string[];
  metadata: ModelMetadata;
  predictor: Predictor;
  engine: EngineInfo;
  threshold?: number;
  batchSize?: number;
  /** Images decoded ahead of the model (sharp decodes on libuv threads, in parallel with inference). */
  prefetch?: number;
  onRecord?: (r: ClassifyRecord) => void;
  onFailure?: (f: FileFailure) => void;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** How images are brought to the model's input (e.g. a framing check's zoom); default the model's own way. */
  preprocess?: PreprocessOptions;
  /** Score images the model's familiarity check would refuse (UNFAMILIAR) instead of reporting them as failures. */
  allowUnfamiliar?: boolean;
}

/** The outcome of a batch. */
export interface ClassifyOutcome {
  records: ClassifyRecord[];
  failures: FileFailure[];
  cancelled: boolean;
  seconds: number;
}

type Loaded = { path: string; ok: true; data: Float32Array; sha256: string; ms: number } | { path: string; ok: false; failure: FileFailure };

async function load(file: string, md: ModelMetadata, opts?: PreprocessOptions): Promise<Loaded> {
  const t0 = performance.now();
  try {
    const r = await loadForModel(file, md.input, opts);
    return { path: file, ok: true, data: r.data, sha256: r.sha256, ms: performance.now() - t0 };
  } catch (e) {
    return { path: file, ok: false, failure: toFileFailure(e, file) };
  }
}

/** The label of probability `p` at `threshold`: the positive class at or above it, else the other class. */
export function labelAt(md: Pick<ModelMetadata, 'positiveClass' | 'classNames'>, p: number, threshold: number): string {
  return p >= threshold ? md.positiveClass : md.classNames.find((c) => c !== md.positiveClass) ?? 'NEGATIVE';
}

/**
 * Classifies files with a model: decodes ahead (bounded), runs the model in batches, reports each
 * result and each failure as it happens. A bad image is reported and skipped; the batch goes on. An image the
 * model's familiarity check refuses (too unlike its training images) is a failure too, unless allowUnfamiliar.
 */
export async function classifyFiles(o: ClassifyOptions): Promise<ClassifyOutcome> {
  const started = performance.now();
  const md = o.metadata;
  const threshold = o.threshold ?? md.threshold;
  const batchSize = Math.max(1, o.batchSize ?? 8);
  const ahead = Math.max(1, o.prefetch ?? batchSize * 2);
  const size = md.input.height * md.input.width * md.input.channels;
  const records: ClassifyRecord[] = [];
  const failures: FileFailure[] = [];
  const inflight: Promise<Loaded>[] = [];
  let nextFile = 0;
  let done = 0;
  const refill = () => {
    while (inflight.length < ahead && nextFile < o.files.length) inflight.push(load(o.files[nextFile++], md, o.preprocess));
  };
  const fail = (failure: FileFailure) => {
    failures.push(failure);
    o.onFailure?.(failure);
    o.onProgress?.(++done, o.files.length);
  };
  let batch: Extract<Loaded, { ok: true }>[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const buf = new Float32Array(batch.length * size);
    batch.forEach((b, i) => buf.set(b.data, i * size));
    const t0 = performance.now();
    const { probabilities: probs, distances } = await o.predictor.predict(buf, batch.length);
    const share = (performance.now() - t0) / batch.length;
    batch.forEach((b, i) => {
      const unfamiliar = unfamiliarDetail(md.familiarity, distances?.[i], md.id);
      if (unfamiliar && !o.allowUnfamiliar) return fail(toFileFailure(new ImageError(b.path, 'UNFAMILIAR', unfamiliar), b.path));
      const p = probs[i];
      const rec: ClassifyRecord = {
        path: b.path, sha256: b.sha256, probability: p,
        label: labelAt(md, p, threshold),
        threshold, modelId: md.id, modelVersion: md.version, backend: o.engine.backend, engine: o.predictor.engine,
        milliseconds: Math.round((b.ms + share) * 10) / 10,
        ...(unfamiliar ? { unfamiliar } : {}),
      };
      records.push(rec);
      o.onRecord?.(rec);
      o.onProgress?.(++done, o.files.length);
    });
    batch = [];
  };
  refill();
  let cancelled = false;
  while (inflight.length) {
    if (o.signal?.aborted) {
      cancelled = true;
      break;
    }
    const item = await inflight.shift()!;
    refill();
    if (item.ok) {
      batch.push(item);
      if (batch.length >= batchSize) await flush();
    } else fail(item.failure);
  }
  if (!cancelled) await flush();
  await Promise.allSettled(inflight);
  return { records, failures, cancelled, seconds: (performance.now() - started) / 1000 };
}
