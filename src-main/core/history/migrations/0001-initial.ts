import type { Migration } from './migration.ts';

const APPEND_ONLY = ['diagnoses', 'overrides', 'model_promotions', 'notes', 'audit_log'];

function appendOnlyTriggers(table: string): string {
  return `
CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
BEGIN SELECT RAISE(ABORT, 'audited table ${table}: rows are append-only'); END;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
BEGIN SELECT RAISE(ABORT, 'audited table ${table}: rows are append-only'); END;`;
}

/** Images, models, runs, diagnoses, overrides, notes, model promotions and the audit chain. */
export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
  path TEXT,
  bytes INTEGER,
  width INTEGER,
  height INTEGER,
  dicom_study_uid TEXT,
  dicom_series_uid TEXT,
  dicom_sop_uid TEXT,
  patient_id TEXT,
  patient_name TEXT,
  patient_birth_date TEXT,
  patient_sex TEXT,
  first_seen_at TEXT NOT NULL
) STRICT;

CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  model_id TEXT NOT NULL,
  version TEXT NOT NULL,
  sha256 TEXT,
  metadata_json TEXT,
  first_seen_at TEXT NOT NULL,
  UNIQUE (model_id, version)
) STRICT;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'interrupted')),
  started_at TEXT NOT NULL,
  finished_at TEXT,
  os_user TEXT,
  hostname TEXT,
  platform TEXT,
  pid INTEGER,
  app_version TEXT,
  backend TEXT,
  engine TEXT,
  model_id TEXT NOT NULL,
  model_version TEXT NOT NULL,
  threshold REAL NOT NULL,
  folder TEXT,
  inputs_json TEXT,
  total INTEGER,
  classified INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  diagnoses_recorded INTEGER,
  FOREIGN KEY (model_id, model_version) REFERENCES models (model_id, version)
) STRICT;
CREATE INDEX runs_status ON runs (status);

CREATE TABLE diagnoses (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id),
  image_sha256 TEXT NOT NULL REFERENCES images (sha256),
  model_id TEXT NOT NULL,
  model_version TEXT NOT NULL,
  probability REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),
  label TEXT NOT NULL CHECK (label <> ''),
  threshold REAL NOT NULL,
  milliseconds REAL,
  created_at TEXT NOT NULL,
  FOREIGN KEY (model_id, model_version) REFERENCES models (model_id, version)
) STRICT;
CREATE INDEX diagnoses_model_image ON diagnoses (model_id, model_version, image_sha256);
CREATE INDEX diagnoses_image ON diagnoses (image_sha256);
CREATE INDEX diagnoses_run ON diagnoses (run_id);
CREATE INDEX diagnoses_created ON diagnoses (created_at);

CREATE TABLE overrides (
  id INTEGER PRIMARY KEY,
  diagnosis_id INTEGER NOT NULL REFERENCES diagnoses (id),
  label TEXT NOT NULL CHECK (label IN ('NORMAL', 'PNEUMONIA')),
  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
  user_name TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX overrides_diagnosis ON overrides (diagnosis_id);

CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  image_sha256 TEXT REFERENCES images (sha256),
  diagnosis_id INTEGER REFERENCES diagnoses (id),
  text TEXT NOT NULL CHECK (length(trim(text)) > 0),
  user_name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CHECK ((image_sha256 IS NULL) <> (diagnosis_id IS NULL))
) STRICT;
CREATE INDEX notes_image ON notes (image_sha256);
CREATE INDEX notes_diagnosis ON notes (diagnosis_id);

CREATE TABLE model_promotions (
  id INTEGER PRIMARY KEY,
  model_id TEXT NOT NULL,
  model_version TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'candidate', 'retired')),
  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
  user_name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  FOREIGN KEY (model_id, model_version) REFERENCES models (model_id, version)
) STRICT;
CREATE INDEX model_promotions_model ON model_promotions (model_id, model_version);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref_table TEXT NOT NULL,
  ref_id INTEGER NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
) STRICT;
CREATE INDEX audit_log_ref ON audit_log (ref_table, ref_id);

${APPEND_ONLY.map(appendOnlyTriggers).join('\n')}

-- A run may change only while it is running, and only its outcome columns.
CREATE TRIGGER runs_finished_frozen BEFORE UPDATE ON runs WHEN OLD.status <> 'running'
BEGIN SELECT RAISE(ABORT, 'audited table runs: a finished run cannot change'); END;
CREATE TRIGGER runs_identity_frozen BEFORE UPDATE OF id, started_at, os_user, hostname, platform, pid,
  app_version, backend, engine, model_id, model_version, threshold, folder, inputs_json ON runs
BEGIN SELECT RAISE(ABORT, 'audited table runs: only status, finish time and counts may change'); END;
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'audited table runs: rows are append-only'); END;
CREATE TRIGGER diagnoses_run_must_be_running BEFORE INSERT ON diagnoses
WHEN (SELECT status FROM runs WHERE id = NEW.run_id) IS NOT 'running'
BEGIN SELECT RAISE(ABORT, 'diagnoses can only be added to a running run'); END;

-- Identity columns that audited rows point at never change.
CREATE TRIGGER images_sha256_frozen BEFORE UPDATE OF id, sha256 ON images
WHEN NEW.sha256 IS NOT OLD.sha256 OR NEW.id IS NOT OLD.id
BEGIN SELECT RAISE(ABORT, 'images: sha256 cannot change'); END;
CREATE TRIGGER models_identity_frozen BEFORE UPDATE OF id, model_id, version, sha256 ON models
WHEN NEW.id IS NOT OLD.id OR NEW.model_id IS NOT OLD.model_id OR NEW.version IS NOT OLD.version
  OR (OLD.sha256 IS NOT NULL AND NEW.sha256 IS NOT OLD.sha256)
BEGIN SELECT RAISE(ABORT, 'models: id, version and a recorded sha256 cannot change'); END;
`);
  },
};
