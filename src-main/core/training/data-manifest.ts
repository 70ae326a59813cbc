// What exactly a model was trained and selected on: per part, the number of images and a fingerprint
// (sha256 of the sorted content hashes, independent of order and file names), plus a CSV manifest
// (part, label, sha256, path) written beside the model as training-data.csv.
import { createHash } from 'node:crypto';
import { toCsv } from '../history/csv.ts';

/** One part of the training data: content hashes, labels (0/1) and where each image came from. */
export interface ManifestPart {
  sha256: readonly string[];
  labels: readonly number[];
  paths: readonly string[];
}

/** The manifest's file name in a model folder. */
export const DATA_MANIFEST_FILE = 'training-data.csv';

/** sha256 of the sorted, newline-joined content hashes of a set of images. */
export function dataFingerprint(hashes: readonly string[]): string {
  return createHash('sha256').update([...hashes].sort().join('\n')).digest('hex');
}

/** Per part: image count and fingerprint (for metadata.json), and the CSV manifest. */
export function dataManifest(parts: Record<string, ManifestPart>, classNames: readonly string[]): { summary: Record<string, { files: number; sha256: string }>; csv: string } {
  const summary: Record<string, { files: number; sha256: string }> = {};
  const rows: Array<Record<string, unknown>> = [];
  for (const [name, p] of Object.entries(parts)) {
    summary[name] = { files: p.sha256.length, sha256: dataFingerprint(p.sha256) };
    p.sha256.forEach((h, i) => rows.push({ part: name, label: classNames[p.labels[i]] ?? p.labels[i], sha256: h, path: p.paths[i] }));
  }
  return { summary, csv: toCsv(['part', 'label', 'sha256', 'path'], rows) };
}
