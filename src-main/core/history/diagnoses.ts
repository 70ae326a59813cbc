/** Recording a run's diagnoses (audited) and finding images a model already diagnosed. */
import { appendAudit } from './audit-log.ts';
import { upsertImage } from './images.ts';
import { addNote } from './notes.ts';
import { normalizeSha256, nowIso, orNull, prepare, requireText, writeTx } from './sql-util.ts';
import type { DiagnosisInput, HistoryDb } from './types.ts';

export interface DiagnosisRow {
  id: number;
  runId: number;
  sha256: string;
  modelId: string;
  modelVersion: string;
  probability: number;
  label: string;
  threshold: number;
  milliseconds: number | null;
  createdAt: string;
}

/**
 * Records a chunk of diagnoses of a running run in one transaction: each image is
 * upserted, each diagnosis inserted and appended to the audit chain. Model fields of a
 * row, when given, must match the run's model. A row scored although the model's familiarity check found it
 * unlike its training images (`unfamiliar`) gets an audited note saying so. Returns the new diagnosis ids in order.
 */
export function recordDiagnoses(db: HistoryDb, runId: number, rows: readonly DiagnosisInput[]): number[] {
  if (rows.length === 0) return [];
  return writeTx(db, () => {
    const run = prepare<{ status: string; model_id: string; model_version: string }>(
      db,
      'SELECT status, model_id, model_version FROM runs WHERE id = ?',
    ).get(runId);
    if (!run) throw new Error(`run ${runId} does not exist in the history`);
    if (run.status !== 'running') throw new Error(`run ${runId} already finished (${run.status}); start a new run`);
    const insert = prepare(
      db,
      `INSERT INTO diagnoses (run_id, image_sha256, model_id, model_version, probability, label, threshold,
         milliseconds, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return rows.map((r, i) => {
      const where = `diagnosis ${i} of the chunk (${r.path ?? r.sha256})`;
      if ((r.modelId && r.modelId !== run.model_id) || (r.modelVersion && r.modelVersion !== run.model_version)) {
        throw new Error(
          `${where} is from model ${r.modelId}@${r.modelVersion} but run ${runId} uses ${run.model_id}@${run.model_version}`,
        );
      }
      if (!(Number.isFinite(r.probability) && r.probability >= 0 && r.probability <= 1)) {
        throw new Error(`${where}: probability must be within [0, 1], got ${r.probability}`);
      }
      if (!Number.isFinite(r.threshold)) throw new Error(`${where}: threshold must be a number, got ${r.threshold}`);
      const label = requireText(r.label, `${where}: label`);
      const sha256 = normalizeSha256(r.sha256, `${where}: sha256`);
      upsertImage(db, { sha256, path: r.path, bytes: r.bytes, width: r.width, height: r.height, dicom: r.dicom });
      const ms = Number.isFinite(r.milliseconds) ? r.milliseconds : null;
      const id = Number(
        insert.run(runId, sha256, run.model_id, run.model_version, r.probability, label, r.threshold, orNull(ms),
          r.createdAt ?? nowIso()).lastInsertRowid,
      );
      appendAudit(db, 'diagnosis', id);
      if (r.unfamiliar) addNote(db, { diagnosisId: id, text: `scored although unlike the images the model was trained on (${r.unfamiliar})` });
      return id;
    });
  });
}

/** A diagnosis by id, or undefined. */
export function getDiagnosis(db: HistoryDb, diagnosisId: number): DiagnosisRow | undefined {
  return prepare<DiagnosisRow>(
    db,
    `SELECT id, run_id AS runId, image_sha256 AS sha256, model_id AS modelId, model_version AS modelVersion,
            probability, label, threshold, milliseconds, created_at AS createdAt
       FROM diagnoses WHERE id = ?`,
  ).get(diagnosisId);
}

/**
 * Of `sha256s`, those this model version already diagnosed (in any run, finished or not):
 * a re-run can skip them.
 */
export function findDiagnosedImages(
  db: HistoryDb,
  modelId: string,
  modelVersion: string,
  sha256s: Iterable<string>,
): Set<string> {
  const wanted = [...new Set([...sha256s].map((s) => String(s).toLowerCase()))];
  if (wanted.length === 0) return new Set();
  const found = prepare<string>(
    db,
    `SELECT DISTINCT image_sha256 FROM diagnoses
      WHERE model_id = ? AND model_version = ? AND image_sha256 IN (SELECT value FROM json_each(?))`,
  ).pluck().all(modelId, modelVersion, JSON.stringify(wanted));
  return new Set(found);
}

/** An earlier diagnosis of an image, with the backend and engine of its run. */
export interface PastDiagnosis {
  diagnosisId: number;
  runId: number;
  probability: number;
  threshold: number;
  milliseconds: number | null;
  backend: string | null;
  engine: string | null;
  createdAt: string;
}

/**
 * The latest diagnosis of each of `sha256s` by this model version (keyed by sha256), so a re-run that
 * skips them can still list their results.
 */
export function latestDiagnoses(db: HistoryDb, modelId: string, modelVersion: string, sha256s: Iterable<string>): Map<string, PastDiagnosis> {
  const wanted = [...new Set([...sha256s].map((s) => String(s).toLowerCase()))];
  const out = new Map<string, PastDiagnosis>();
  if (wanted.length === 0) return out;
  const rows = prepare<PastDiagnosis & { sha256: string }>(
    db,
    `SELECT d.image_sha256 AS sha256, d.id AS diagnosisId, d.run_id AS runId, d.probability, d.threshold, d.milliseconds,
            d.created_at AS createdAt, r.backend, r.engine
       FROM diagnoses d JOIN runs r ON r.id = d.run_id
      WHERE d.model_id = ? AND d.model_version = ? AND d.image_sha256 IN (SELECT value FROM json_each(?))
      ORDER BY d.id`,
  ).all(modelId, modelVersion, JSON.stringify(wanted));
  for (const { sha256, ...row } of rows) out.set(sha256, row);
  return out;
}
