/** Clinician overrides: appended and audited; the diagnosis itself is never changed. */
import { appendAudit } from './audit-log.ts';
import { nowIso, osUser, prepare, requireText, writeTx } from './sql-util.ts';
import { CLINICIAN_LABELS, type ClinicianLabel, type HistoryDb, type OverrideInput } from './types.ts';

/**
 * Records a clinician's label for a diagnosis (the diagnosis itself is never changed).
 * The label must be NORMAL or PNEUMONIA (any case) and the reason non-empty.
 * Returns the override id.
 */
export function addOverride(db: HistoryDb, diagnosisId: number, o: OverrideInput): number {
  const label = String(o.label ?? '').trim().toUpperCase() as ClinicianLabel;
  if (!CLINICIAN_LABELS.includes(label)) {
    throw new Error(`override of diagnosis ${diagnosisId}: label must be ${CLINICIAN_LABELS.join(' or ')}, got ${JSON.stringify(o.label)}`);
  }
  const reason = requireText(o.reason, `override of diagnosis ${diagnosisId}: reason`);
  const user = o.user?.trim() || osUser();
  return writeTx(db, () => {
    if (!prepare(db, 'SELECT 1 FROM diagnoses WHERE id = ?').get(diagnosisId)) {
      throw new Error(`diagnosis ${diagnosisId} does not exist in the history`);
    }
    const id = Number(
      prepare(db, 'INSERT INTO overrides (diagnosis_id, label, reason, user_name, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(diagnosisId, label, reason, user, o.at ?? nowIso()).lastInsertRowid,
    );
    appendAudit(db, 'override', id);
    return id;
  });
}
