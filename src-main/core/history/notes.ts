/** Notes on images or diagnoses: appended and audited, never edited. */
import { appendAudit } from './audit-log.ts';
import { normalizeSha256, nowIso, osUser, prepare, requireText, writeTx } from './sql-util.ts';
import type { HistoryDb, NoteInput } from './types.ts';

/** Adds a note to an image (by sha256) or to a diagnosis, exactly one; returns the note id. */
export function addNote(db: HistoryDb, n: NoteInput): number {
  const hasImage = n.imageSha256 !== undefined && n.imageSha256 !== null;
  const hasDiagnosis = n.diagnosisId !== undefined && n.diagnosisId !== null;
  if (hasImage === hasDiagnosis) throw new Error('a note goes on exactly one of an image (imageSha256) or a diagnosis (diagnosisId)');
  const text = requireText(n.text, 'note text');
  const user = n.user?.trim() || osUser();
  const sha256 = hasImage ? normalizeSha256(n.imageSha256!, 'note image sha256') : null;
  return writeTx(db, () => {
    if (sha256 && !prepare(db, 'SELECT 1 FROM images WHERE sha256 = ?').get(sha256)) {
      throw new Error(`image ${sha256} does not exist in the history`);
    }
    if (hasDiagnosis && !prepare(db, 'SELECT 1 FROM diagnoses WHERE id = ?').get(n.diagnosisId)) {
      throw new Error(`diagnosis ${n.diagnosisId} does not exist in the history`);
    }
    const id = Number(
      prepare(db, 'INSERT INTO notes (image_sha256, diagnosis_id, text, user_name, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(sha256, hasDiagnosis ? n.diagnosisId : null, text, user, n.at ?? nowIso()).lastInsertRowid,
    );
    appendAudit(db, 'note', id);
    return id;
  });
}

export interface NoteRow {
  id: number;
  imageSha256: string | null;
  diagnosisId: number | null;
  text: string;
  user: string;
  createdAt: string;
}

/** Notes on an image (including those on its diagnoses), oldest first. */
export function listNotes(db: HistoryDb, imageSha256: string): NoteRow[] {
  const sha = normalizeSha256(imageSha256, 'image sha256');
  return prepare<NoteRow>(
    db,
    `SELECT n.id, n.image_sha256 AS imageSha256, n.diagnosis_id AS diagnosisId, n.text, n.user_name AS user,
            n.created_at AS createdAt
       FROM notes n LEFT JOIN diagnoses d ON d.id = n.diagnosis_id
      WHERE n.image_sha256 = @sha OR d.image_sha256 = @sha
      ORDER BY n.id`,
  ).all({ sha });
}
