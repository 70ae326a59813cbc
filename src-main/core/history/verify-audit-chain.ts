/** Re-checks the whole audit chain and the audited rows against it. */
import { AUDIT_KINDS, GENESIS_HASH, chainHash } from './audit-log.ts';
import { canonicalJson } from './canonical-json.ts';
import { prepare } from './sql-util.ts';
import type { AuditHead, AuditKind, HistoryDb, VerifyResult } from './types.ts';

interface AuditEntry {
  seq: number;
  at: string;
  kind: string;
  ref_table: string;
  ref_id: number;
  payload: string;
  prev_hash: string;
  hash: string;
}

// Run columns that legitimately change between the run_started entry and the finish.
const RUN_OUTCOME_COLUMNS = new Set([
  'status', 'finished_at', 'total', 'classified', 'failed', 'skipped', 'diagnoses_recorded',
]);

// Tables whose every row must have exactly one entry of the given kind.
const ROW_KINDS: Array<[AuditKind, string]> = [
  ['diagnosis', 'diagnoses'],
  ['override', 'overrides'],
  ['model_promotion', 'model_promotions'],
  ['note', 'notes'],
  ['run_started', 'runs'],
];

const PAGE = 2000;

export interface VerifyOptions {
  /** A head saved earlier (e.g. printed after a run): it must still be in the chain, unchanged. */
  expectHead?: AuditHead;
}

/**
 * Recomputes every hash in audit_log, checks the seq numbers are continuous, that every
 * logged row still matches its payload, that every audited row has its entry, and that
 * each finished run still has the number of diagnoses it finished with.
 * On failure, `brokenAt` is the first bad seq (last seq + 1 for a row with no entry).
 */
export function verifyAuditChain(db: HistoryDb, opts: VerifyOptions = {}): VerifyResult {
  // One read transaction: a consistent snapshot even while another process writes.
  return db.transaction(() => verifyInSnapshot(db, opts))();
}

function verifyInSnapshot(db: HistoryDb, opts: VerifyOptions): VerifyResult {
  const page = prepare<AuditEntry>(db, 'SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?');
  const seen = new Map<AuditKind, Set<number>>();
  for (const k of Object.keys(AUDIT_KINDS) as AuditKind[]) seen.set(k, new Set());
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let head: AuditHead | null = null;
  let headMatched = false;

  for (;;) {
    const entries = page.all(expectedSeq - 1, PAGE);
    if (entries.length === 0) break;
    for (const e of entries) {
      const fail = (reason: string): VerifyResult => ({ ok: false, brokenAt: e.seq, reason: `seq ${e.seq}: ${reason}` });
      if (e.seq !== expectedSeq) return fail(`expected seq ${expectedSeq}: entries are missing`);
      if (e.prev_hash !== prevHash) return fail('prev_hash does not match the previous entry\'s hash');
      if (chainHash(e.prev_hash, e.payload) !== e.hash) return fail('hash does not match its payload');
      const problem = checkEntry(db, e, seen);
      if (problem) return fail(problem);
      if (opts.expectHead && opts.expectHead.seq === e.seq) {
        if (opts.expectHead.hash !== e.hash) return fail('differs from the head recorded earlier');
        headMatched = true;
      }
      prevHash = e.hash;
      expectedSeq = e.seq + 1;
      head = { seq: e.seq, hash: e.hash };
    }
  }
  const rows = expectedSeq - 1;

  if (opts.expectHead && !headMatched) {
    return {
      ok: false,
      brokenAt: opts.expectHead.seq,
      reason: `the chain ends at seq ${rows} but the head recorded earlier is seq ${opts.expectHead.seq}: newest entries were removed`,
    };
  }
  for (const [kind, table] of ROW_KINDS) {
    const ids = seen.get(kind)!;
    for (const id of prepare<number>(db, `SELECT id FROM ${table} ORDER BY id`).pluck().iterate()) {
      if (!ids.has(id)) {
        return { ok: false, brokenAt: rows + 1, reason: `${table} row ${id} has no ${kind} audit entry` };
      }
    }
  }
  const finished = seen.get('run_finished')!;
  for (const id of prepare<number>(db, "SELECT id FROM runs WHERE status <> 'running' ORDER BY id").pluck().all()) {
    if (!finished.has(id)) {
      return { ok: false, brokenAt: rows + 1, reason: `runs row ${id} is finished but has no run_finished audit entry` };
    }
  }
  return { ok: true, rows, head };
}

// Checks one entry against the row it points at; returns a reason or null.
function checkEntry(db: HistoryDb, e: AuditEntry, seen: Map<AuditKind, Set<number>>): string | null {
  const spec = AUDIT_KINDS[e.kind as AuditKind];
  if (!spec) return `unknown kind ${JSON.stringify(e.kind)}`;
  if (e.ref_table !== spec.table) return `kind ${e.kind} must point at ${spec.table}, not ${e.ref_table}`;
  let logged: Record<string, unknown>;
  try {
    logged = JSON.parse(e.payload) as Record<string, unknown>;
  } catch {
    return 'payload is not JSON';
  }
  if (logged.id !== e.ref_id) return `ref_id ${e.ref_id} differs from the payload's id ${String(logged.id)}`;
  if (e.at !== logged[spec.timeColumn]) return `at ${e.at} differs from the payload's ${spec.timeColumn}`;
  const ids = seen.get(e.kind as AuditKind)!;
  if (ids.has(e.ref_id)) return `${spec.table} row ${e.ref_id} is logged twice as ${e.kind}`;
  ids.add(e.ref_id);

  const row = prepare<Record<string, unknown>>(db, `SELECT * FROM ${spec.table} WHERE id = ?`).get(e.ref_id);
  if (!row) return `${spec.table} row ${e.ref_id} was deleted`;
  if (e.kind === 'run_started') {
    for (const key of new Set([...Object.keys(row), ...Object.keys(logged)])) {
      if (RUN_OUTCOME_COLUMNS.has(key)) continue;
      if (canonicalJson(row[key] ?? null) !== canonicalJson(logged[key] ?? null)) {
        return `runs row ${e.ref_id} column ${key} was changed after the run started`;
      }
    }
    return null;
  }
  if (canonicalJson(row) !== e.payload) return `${spec.table} row ${e.ref_id} was changed after it was logged`;
  if (e.kind === 'run_finished') {
    const count = prepare<number>(db, 'SELECT count(*) FROM diagnoses WHERE run_id = ?').pluck().get(e.ref_id);
    if (count !== logged.diagnoses_recorded) {
      return `run ${e.ref_id} finished with ${String(logged.diagnoses_recorded)} diagnoses but ${count} remain`;
    }
  }
  return null;
}
