import type { FileFailure, InputSpec } from '../../../src-shared/types.ts';
import { loadForModel } from '../imaging/preprocess.ts';
import { toFileFailure } from '../imaging/image-error.ts';

/** Images decoded to the model's input, kept in memory for training. */
export interface LoadedImages {
  paths: string[];
  /** sha256 of each file's bytes, parallel to `paths`. */
  sha256: string[];
  labels: number[];
  pixels: Float32Array[];
  failures: FileFailure[];
}

/**
 * Decodes and resizes `items` to `spec`, `concurrency` at a time (sharp decodes off the JS thread).
 * Unreadable files are reported in `failures` and skipped.
 */
export async function loadImages(
  items: Array<{ path: string; label: number }>,
  spec: InputSpec,
  opts: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<LoadedImages> {
  const results: Array<{ pixels: Float32Array; sha256: string } | { failure: FileFailure }> = new Array(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        const r = await loadForModel(items[i].path, spec);
        results[i] = { pixels: r.data, sha256: r.sha256 };
      } catch (e) {
        results[i] = { failure: toFileFailure(e, items[i].path) };
      }
      opts.onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  const out: LoadedImages = { paths: [], sha256: [], labels: [], pixels: [], failures: [] };
  results.forEach((r, i) => {
    if ('failure' in r) out.failures.push(r.failure);
    else {
      out.paths.push(items[i].path);
      out.sha256.push(r.sha256);
      out.labels.push(items[i].label);
      out.pixels.push(r.pixels);
    }
  });
  return out;
}
