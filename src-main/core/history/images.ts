/** The images table: one row per distinct file content (sha256). */
import { normalizeSha256, nowIso, orNull, prepare, writeTx } from './sql-util.ts';
import type { HistoryDb, ImageInput } from './types.ts';

const UPSERT = `
INSERT INTO images (sha256, path, bytes, width, height, dicom_study_uid, dicom_series_uid, dicom_sop_uid,
  patient_id, patient_name, patient_birth_date, patient_sex, first_seen_at)
VALUES (@sha256, @path, @bytes, @width, @height, @study, @series, @sop,
  @patientId, @patientName, @patientBirthDate, @patientSex, @at)
ON CONFLICT (sha256) DO UPDATE SET
  path = coalesce(images.path, excluded.path),
  bytes = coalesce(images.bytes, excluded.bytes),
  width = coalesce(images.width, excluded.width),
  height = coalesce(images.height, excluded.height),
  dicom_study_uid = coalesce(images.dicom_study_uid, excluded.dicom_study_uid),
  dicom_series_uid = coalesce(images.dicom_series_uid, excluded.dicom_series_uid),
  dicom_sop_uid = coalesce(images.dicom_sop_uid, excluded.dicom_sop_uid),
  patient_id = coalesce(images.patient_id, excluded.patient_id),
  patient_name = coalesce(images.patient_name, excluded.patient_name),
  patient_birth_date = coalesce(images.patient_birth_date, excluded.patient_birth_date),
  patient_sex = coalesce(images.patient_sex, excluded.patient_sex)
RETURNING id`;

/**
 * Records an image by content hash and returns its row id. The first path seen is kept;
 * later calls only fill in fields that are still unknown.
 */
export function upsertImage(db: HistoryDb, image: ImageInput): number {
  const d = image.dicom ?? {};
  const params = {
    sha256: normalizeSha256(image.sha256, 'image sha256'),
    path: orNull(image.path),
    bytes: intOrNull(image.bytes),
    width: intOrNull(image.width),
    height: intOrNull(image.height),
    study: orNull(d.studyUid),
    series: orNull(d.seriesUid),
    sop: orNull(d.sopUid),
    patientId: orNull(d.patientId),
    patientName: orNull(d.patientName),
    patientBirthDate: orNull(d.patientBirthDate),
    patientSex: orNull(d.patientSex),
    at: nowIso(),
  };
  return writeTx(db, () => prepare<number>(db, UPSERT).pluck().get(params)!);
}

function intOrNull(n: number | null | undefined): number | null {
  return n === undefined || n === null || !Number.isFinite(n) ? null : Math.round(n);
}
