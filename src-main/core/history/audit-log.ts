/**
 * The append-only audit chain. Each entry holds the canonical JSON of the audited row
 * and hash = sha256(prev_hash || payload), hex; the first entry's prev_hash is 64 zeros.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { prepare } from './sql-util.ts';
import type { AuditHead, AuditKind, HistoryDb } from './types.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** Which table each kind of entry points at, and which column holds the event time. */
export const AUDIT_KINDS: Record<AuditKind, { table: string; timeColumn: string }> = {
  diagnosis: { table: 'diagnoses', timeColumn: 'created_at' },
  override: { table: 'overrides', timeColumn: 'created_at' },
  model_promotion: { table: 'model_promotions', timeColumn: 'created_at' },
  note: { table: 'notes', timeColumn: 'created_at' },
  run_started: { table: 'runs', timeColumn: 'started_at' },
  run_finished: { table: 'runs', timeColumn: 'finished_at' },
};

/** sha256(prevHash || payload) as lower-case hex. */
export function chainHash(prevHash: string, payload: string): string {
  return createHash('sha256').update(prevHash, 'utf8').update(payload, 'utf8').digest('hex');
}

/** The newest audit entry's seq and hash, or null for an empty log. */
export function auditHead(db: HistoryDb): AuditHead | null {
  const row = prepare<AuditHead>(db, 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get();
  return row ?? null;
}

/**
 * Appends an entry for the row `id` of the kind's table, as it is now in the database.
 * Must run inside the transaction that wrote the row. Returns the new entry's seq.
 */
export function appendAudit(db: HistoryDb, kind: AuditKind, id: number): number {
  if (!db.inTransaction) throw new Error('appendAudit must run inside the transaction that wrote the row');
  const { table, timeColumn } = AUDIT_KINDS[kind];
  const row = prepare<Record<string, unknown>>(db, `SELECT * FROM ${table} WHERE id = ?`).get(id);
  if (!row) throw new Error(`cannot audit ${table} row ${id}: it does not exist`);
  const payload = canonicalJson(row);
  const prevHash = auditHead(db)?.hash ?? GENESIS_HASH;
  const at = String(row[timeColumn]);
  const result = prepare(
    db,
    'INSERT INTO audit_log (at, kind, ref_table, ref_id, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(at, kind, table, id, payload, prevHash, chainHash(prevHash, payload));
  return Number(result.lastInsertRowid);
}
