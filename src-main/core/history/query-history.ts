/** Reading the history: diagnoses joined with image, run and latest override. */
import { prepare } from './sql-util.ts';
import type { HistoryDb, HistoryQuery, HistoryRow } from './types.ts';

const SELECT = `
SELECT d.id AS diagnosisId, d.created_at AS createdAt, d.image_sha256 AS sha256,
       i.path, i.bytes, i.width, i.height,
       i.dicom_study_uid AS studyUid, i.dicom_series_uid AS seriesUid, i.dicom_sop_uid AS sopUid,
       i.patient_id AS patientId, i.patient_name AS patientName,
       i.patient_birth_date AS patientBirthDate, i.patient_sex AS patientSex,
       d.model_id AS modelId, d.model_version AS modelVersion,
       d.probability, d.label, d.threshold, d.milliseconds,
       d.run_id AS runId, r.backend, r.engine, r.hostname, r.os_user AS runUser,
       o.id AS overrideId, o.label AS overrideLabel, o.reason AS overrideReason,
       o.user_name AS overrideUser, o.created_at AS overrideAt,
       coalesce(o.label, d.label) AS finalLabel
  FROM diagnoses d
  JOIN images i ON i.sha256 = d.image_sha256
  JOIN runs r ON r.id = d.run_id
  LEFT JOIN overrides o ON o.id = (SELECT max(id) FROM overrides WHERE diagnosis_id = d.id)`;

/** The column order of HistoryRow (and of exports). */
export const HISTORY_COLUMNS: readonly (keyof HistoryRow)[] = [
  'diagnosisId', 'createdAt', 'sha256', 'path', 'bytes', 'width', 'height',
  'studyUid', 'seriesUid', 'sopUid', 'patientId', 'patientName', 'patientBirthDate', 'patientSex',
  'modelId', 'modelVersion', 'probability', 'label', 'threshold', 'milliseconds',
  'runId', 'backend', 'engine', 'hostname', 'runUser',
  'overrideId', 'overrideLabel', 'overrideReason', 'overrideUser', 'overrideAt', 'finalLabel',
];

function iso(t: string | Date): string {
  return t instanceof Date ? t.toISOString() : t;
}

/**
 * Diagnoses matching `q`, newest first, each with its image, run and latest override.
 * `label` matches the effective label (override first), case-insensitively; `image` is
 * an exact path or a sha256 prefix of at least 4 hex digits.
 */
export function queryHistory(db: HistoryDb, q: HistoryQuery = {}): HistoryRow[] {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (q.since !== undefined) {
    where.push('d.created_at >= @since');
    params.since = iso(q.since);
  }
  if (q.until !== undefined) {
    where.push('d.created_at < @until');
    params.until = iso(q.until);
  }
  if (q.label !== undefined) {
    where.push('upper(coalesce(o.label, d.label)) = upper(@label)');
    params.label = q.label;
  }
  if (q.modelId !== undefined) {
    where.push('d.model_id = @modelId');
    params.modelId = q.modelId;
  }
  if (q.modelVersion !== undefined) {
    where.push('d.model_version = @modelVersion');
    params.modelVersion = q.modelVersion;
  }
  if (q.runId !== undefined) {
    where.push('d.run_id = @runId');
    params.runId = q.runId;
  }
  if (q.image !== undefined) {
    params.image = q.image;
    if (/^[0-9a-f]{4,64}$/i.test(q.image)) {
      where.push("(i.path = @image OR d.image_sha256 LIKE @prefix || '%')");
      params.prefix = q.image.toLowerCase();
    } else {
      where.push('i.path = @image');
    }
  }
  if (q.overridden !== undefined) where.push(`o.id IS ${q.overridden ? 'NOT ' : ''}NULL`);
  const sql = `${SELECT}${where.length ? `\n WHERE ${where.join(' AND ')}` : ''}\n ORDER BY d.id DESC LIMIT @limit OFFSET @offset`;
  params.limit = q.limit ?? -1;
  params.offset = q.offset ?? 0;
  return prepare<HistoryRow>(db, sql).all(params);
}
