/**
 * Types of the diagnosis history store (`src-main/core/history`).
 * Rows come back camelCased; the SQL columns are snake_case.
 */
import type Database from 'better-sqlite3';
import type { ClassifyRecord } from '../../../src-shared/types.ts';

/** An open history database (a better-sqlite3 connection). */
export type HistoryDb = Database.Database;

/** The labels a clinician may give in an override. */
export const CLINICIAN_LABELS = ['NORMAL', 'PNEUMONIA'] as const;
export type ClinicianLabel = (typeof CLINICIAN_LABELS)[number];

export type RunStatus = 'running' | 'completed' | 'interrupted';
export type PromotionStatus = 'active' | 'candidate' | 'retired';

/** What an audit_log row records. */
export type AuditKind =
  | 'diagnosis'
  | 'override'
  | 'model_promotion'
  | 'note'
  | 'run_started'
  | 'run_finished';

/** DICOM identifiers and patient fields of an image; every field optional. */
export interface DicomFields {
  studyUid?: string | null;
  seriesUid?: string | null;
  sopUid?: string | null;
  patientId?: string | null;
  patientName?: string | null;
  patientBirthDate?: string | null;
  patientSex?: string | null;
}

/** An image as first seen; later sightings only fill in fields still unknown. */
export interface ImageInput {
  sha256: string;
  path?: string | null;
  bytes?: number | null;
  width?: number | null;
  height?: number | null;
  dicom?: DicomFields | null;
}

/** A model version; `metadata` is stored as JSON (typically the model's ModelMetadata). */
export interface ModelInput {
  id: string;
  version: string;
  sha256?: string | null;
  metadata?: unknown;
}

/** What a batch run is, recorded when it starts. Machine fields default to this process. */
export interface RunInfo {
  modelId: string;
  modelVersion: string;
  threshold: number;
  backend?: string | null;
  engine?: string | null;
  folder?: string | null;
  inputs?: string[] | null;
  total?: number | null;
  user?: string;
  hostname?: string;
  platform?: string;
  pid?: number;
  appVersion?: string | null;
  startedAt?: string;
}

/** Counts reported when a run ends. */
export interface RunCounts {
  total: number;
  classified: number;
  failed: number;
  skipped: number;
}

/** A run row. */
export interface RunRow {
  id: number;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  user: string | null;
  hostname: string | null;
  platform: string | null;
  pid: number | null;
  appVersion: string | null;
  backend: string | null;
  engine: string | null;
  modelId: string;
  modelVersion: string;
  threshold: number;
  folder: string | null;
  inputs: string[] | null;
  total: number | null;
  classified: number;
  failed: number;
  skipped: number;
  diagnosesRecorded: number | null;
}

/**
 * One classified image to record. A `ClassifyRecord` fits as is; model fields, when
 * given, must match the run's model. Image fields (bytes, size, DICOM) are optional.
 */
export type DiagnosisInput = Pick<
  ClassifyRecord,
  'path' | 'sha256' | 'probability' | 'label' | 'threshold' | 'milliseconds'
> &
  Partial<Pick<ClassifyRecord, 'modelId' | 'modelVersion' | 'unfamiliar'>> & {
    bytes?: number | null;
    width?: number | null;
    height?: number | null;
    dicom?: DicomFields | null;
    createdAt?: string;
  };

export interface OverrideInput {
  label: string;
  reason: string;
  /** Defaults to the OS user. */
  user?: string;
  at?: string;
}

/** A note on an image (by sha256) or on one diagnosis: exactly one of the two. */
export interface NoteInput {
  imageSha256?: string;
  diagnosisId?: number;
  text: string;
  user?: string;
  at?: string;
}

export interface PromotionInput {
  status: PromotionStatus;
  reason: string;
  user?: string;
  at?: string;
}

/** Filters of `queryHistory`; all optional, combined with AND. */
export interface HistoryQuery {
  /** Diagnoses created at or after this time (ISO string or Date). */
  since?: string | Date;
  /** Diagnoses created before this time. */
  until?: string | Date;
  /** The effective label: the latest override's label if any, else the model's. */
  label?: string;
  modelId?: string;
  modelVersion?: string;
  runId?: number;
  /** An exact path (the first path the image was seen at) or a sha256 prefix (4+ hex digits). */
  image?: string;
  /** true: only overridden diagnoses; false: only those never overridden. */
  overridden?: boolean;
  /** Newest first; `limit` and `offset` page through. */
  limit?: number;
  offset?: number;
}

/** One diagnosis joined with its image, run and latest override. */
export interface HistoryRow {
  diagnosisId: number;
  createdAt: string;
  sha256: string;
  path: string | null;
  bytes: number | null;
  width: number | null;
  height: number | null;
  studyUid: string | null;
  seriesUid: string | null;
  sopUid: string | null;
  patientId: string | null;
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
  modelId: string;
  modelVersion: string;
  probability: number;
  label: string;
  threshold: number;
  milliseconds: number | null;
  runId: number;
  backend: string | null;
  engine: string | null;
  hostname: string | null;
  runUser: string | null;
  overrideId: number | null;
  overrideLabel: string | null;
  overrideReason: string | null;
  overrideUser: string | null;
  overrideAt: string | null;
  /** overrideLabel ?? label. */
  finalLabel: string;
}

export interface ExportOptions extends Omit<HistoryQuery, 'limit' | 'offset'> {
  format: 'csv' | 'json';
  /** Drop paths, host names, user names, override reasons, DICOM UIDs and patient fields. */
  deidentify: boolean;
}

/** Where the chain ends; keep it outside the database to detect deletion of the newest rows. */
export interface AuditHead {
  seq: number;
  hash: string;
}

export type VerifyResult =
  | { ok: true; rows: number; head: AuditHead | null }
  | { ok: false; brokenAt: number; reason: string };
