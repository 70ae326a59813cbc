import path from 'node:path';
import type { ClassifyRecord, EngineInfo, FileFailure } from '../../../src-shared/types.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';

const COLUMNS: Array<keyof ClassifyRecord> = ['path', 'sha256', 'probability', 'label', 'threshold', 'modelId', 'modelVersion', 'backend', 'engine', 'milliseconds', 'source', 'unfamiliar'];

function csvCell(v: unknown): string {
  const s = v == null ? '' : String(v);
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Renders results as CSV: one row per classified image (`source`: "this run", or the history run an
 * earlier result of the same model version comes from; `unfamiliar`: why an image scored with --allow-unfamiliar
 * is unlike the model's training images), then one row per failure (label ERROR).
 */
export function resultsToCsv(records: ClassifyRecord[], failures: FileFailure[]): string {
  const rows = [[...COLUMNS, 'error'].join(',')];
  for (const r of records) rows.push([...COLUMNS.map((c) => csvCell(c === 'probability' ? r.probability.toFixed(6) : r[c])), ''].join(','));
  for (const f of failures) rows.push([...COLUMNS.map((c) => (c === 'path' ? csvCell(f.path) : c === 'label' ? 'ERROR' : '')), csvCell(`${f.code}: ${f.reason}`)].join(','));
  return rows.join('\n') + '\n';
}

/** Writes results to `file` atomically, as CSV or JSON by extension. */
export async function writeResults(file: string, records: ClassifyRecord[], failures: FileFailure[], engine: EngineInfo): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') {
    await writeFileAtomic(file, JSON.stringify({ engine, results: records, failures }, null, 2) + '\n');
  } else if (ext === '.csv') {
    await writeFileAtomic(file, resultsToCsv(records, failures));
  } else {
    throw new Error(`${file}: unknown output format "${ext || '(none)'}"; use a name ending in .csv or .json`);
  }
}
