/** Exporting the history as CSV or JSON, optionally de-identified. */
import { toCsv } from './csv.ts';
import { schemaVersion } from './open-db.ts';
import { HISTORY_COLUMNS, queryHistory } from './query-history.ts';
import type { ExportOptions, HistoryDb, HistoryRow } from './types.ts';

/**
 * Columns dropped by a de-identified export: paths, host and user names, the override's
 * free-text reason, DICOM UIDs and patient fields. Hashes, labels, probabilities,
 * models and times stay.
 */
export const IDENTIFYING_COLUMNS: ReadonlySet<keyof HistoryRow> = new Set<keyof HistoryRow>([
  'path', 'hostname', 'runUser', 'overrideUser', 'overrideReason',
  'studyUid', 'seriesUid', 'sopUid', 'patientId', 'patientName', 'patientBirthDate', 'patientSex',
]);

/** The columns an export holds, in order. */
export function exportColumns(deidentify: boolean): (keyof HistoryRow)[] {
  return HISTORY_COLUMNS.filter((c) => !deidentify || !IDENTIFYING_COLUMNS.has(c));
}

/** The JSON export's top-level shape. */
export interface HistoryExport {
  format: 'cxr-history';
  version: 1;
  schemaVersion: number;
  exportedAt: string;
  deidentified: boolean;
  columns: string[];
  rows: Array<Partial<HistoryRow>>;
}

/**
 * The diagnoses matching the filters in `opts` (all when none), newest first, as CSV
 * (header + one line per diagnosis) or JSON (a HistoryExport object).
 */
export function exportHistory(db: HistoryDb, opts: ExportOptions): string {
  const { format, deidentify, ...filter } = opts;
  if (format !== 'csv' && format !== 'json') throw new Error(`export format must be csv or json, got ${JSON.stringify(format)}`);
  const columns = exportColumns(deidentify);
  const rows = queryHistory(db, filter).map((r) => {
    const out: Partial<HistoryRow> = {};
    for (const c of columns) (out as Record<string, unknown>)[c] = r[c];
    return out;
  });
  if (format === 'csv') return toCsv(columns, rows);
  const doc: HistoryExport = {
    format: 'cxr-history',
    version: 1,
    schemaVersion: schemaVersion(db),
    exportedAt: new Date().toISOString(),
    deidentified: deidentify,
    columns,
    rows,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
