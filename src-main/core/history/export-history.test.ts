import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv, toCsv } from './csv.ts';
import {
  addOverride, exportColumns, exportHistory, openHistoryDb, queryHistory, recordDiagnoses, IDENTIFYING_COLUMNS,
  type HistoryExport, type HistoryRow,
} from './index.ts';
import { diag, seed, sha } from './test-helpers.ts';

function populated() {
  const db = openHistoryDb(':memory:');
  const { runId, ids } = seed(db, 3);
  recordDiagnoses(db, runId, [
    diag(7, {
      path: '/data/Doe, "John"\n2024.dcm',
      width: 2048,
      height: 2500,
      bytes: 1234567,
      dicom: { studyUid: '1.2.3', seriesUid: '1.2.3.4', sopUid: '1.2.3.4.5', patientId: 'PID-9', patientName: 'Doe^John', patientBirthDate: '19700101', patientSex: 'M' },
    }),
  ]);
  addOverride(db, ids[0], { label: 'PNEUMONIA', reason: 'subtle, "retrocardiac", see CT', user: 'dr.house' });
  return db;
}

// Rows as an export would print them: every value as text, null as ''.
function asText(rows: Array<Partial<HistoryRow>>, columns: string[]): string[][] {
  return rows.map((r) => columns.map((c) => {
    const v = (r as Record<string, unknown>)[c];
    return v === null || v === undefined ? '' : String(v);
  }));
}

test('CSV export round-trips: parse it back and get the same rows', () => {
  const db = populated();
  const csv = exportHistory(db, { format: 'csv', deidentify: false });
  const [header, ...lines] = parseCsv(csv);
  const columns = exportColumns(false);
  assert.deepEqual(header, columns);
  assert.deepEqual(lines, asText(queryHistory(db), columns));
  assert.equal(lines.length, 4);
  assert.ok(lines.some((l) => l.includes('/data/Doe, "John"\n2024.dcm')));
});

test('JSON export round-trips', () => {
  const db = populated();
  const doc = JSON.parse(exportHistory(db, { format: 'json', deidentify: false })) as HistoryExport;
  assert.equal(doc.format, 'cxr-history');
  assert.equal(doc.deidentified, false);
  assert.equal(doc.schemaVersion, 1);
  assert.deepEqual(doc.columns, exportColumns(false));
  assert.deepEqual(doc.rows, queryHistory(db));
});

test('de-identified exports drop paths, hosts, users, reasons and DICOM identifiers but keep hashes', () => {
  const db = populated();
  const full = queryHistory(db);
  for (const format of ['csv', 'json'] as const) {
    const text = exportHistory(db, { format, deidentify: true });
    for (const secret of ['/data/', 'Doe', 'PID-9', '19700101', '1.2.3.4.5', 'dr.house', 'retrocardiac', full[0].hostname!, full[0].runUser!]) {
      assert.ok(!text.includes(secret), `${format} export leaks ${secret}`);
    }
    assert.ok(text.includes(sha(7)) && text.includes(sha(0)));
  }
  const doc = JSON.parse(exportHistory(db, { format: 'json', deidentify: true })) as HistoryExport;
  assert.equal(doc.deidentified, true);
  for (const c of IDENTIFYING_COLUMNS) assert.ok(!doc.columns.includes(c) && !(c in doc.rows[0]));
  const keep = exportColumns(true);
  assert.deepEqual(doc.rows, full.map((r) => Object.fromEntries(keep.map((c) => [c, r[c]]))));
  const [header, ...lines] = parseCsv(exportHistory(db, { format: 'csv', deidentify: true }));
  assert.deepEqual(header, keep);
  assert.deepEqual(lines, asText(doc.rows, keep));
});

test('exports take the same filters as queryHistory', () => {
  const db = populated();
  const doc = JSON.parse(exportHistory(db, { format: 'json', deidentify: true, overridden: true })) as HistoryExport;
  assert.equal(doc.rows.length, 1);
  assert.equal(doc.rows[0].finalLabel, 'PNEUMONIA');
  assert.equal(parseCsv(exportHistory(db, { format: 'csv', deidentify: false, label: 'nothing' })).length, 1);
  assert.throws(() => exportHistory(db, { format: 'xml' as never, deidentify: false }), /csv or json/);
});

test('CSV quoting survives commas, quotes, CR/LF and empty cells', () => {
  const rows = [{ a: 'plain', b: 'x,y', c: 'say "hi"' }, { a: 'line1\r\nline2', b: null, c: '' }, { a: 1.5, b: 0, c: 'é' }];
  const parsed = parseCsv(toCsv(['a', 'b', 'c'], rows));
  assert.deepEqual(parsed, [['a', 'b', 'c'], ['plain', 'x,y', 'say "hi"'], ['line1\r\nline2', '', ''], ['1.5', '0', 'é']]);
});
