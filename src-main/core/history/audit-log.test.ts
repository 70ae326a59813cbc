import assert from 'node:assert/strict';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { canonicalJson } from './canonical-json.ts';
import {
  GENESIS_HASH, addNote, addOverride, auditHead, finishRun, openHistoryDb, promoteModel, recordDiagnoses,
  verifyAuditChain, type HistoryDb, type VerifyResult,
} from './index.ts';
import { diag, seed, tempDir } from './test-helpers.ts';

// A populated file database: one completed run (5 diagnoses), an override, a note, a promotion.
function populated(): { file: string; db: HistoryDb; runId: number; ids: number[] } {
  const file = path.join(tempDir(), 'history.sqlite');
  const db = openHistoryDb(file);
  const { runId, ids } = seed(db, 5);
  addOverride(db, ids[1], { label: 'NORMAL', reason: 'artefact' });
  addNote(db, { diagnosisId: ids[2], text: 'see prior' });
  promoteModel(db, 'm', '1', { status: 'active', reason: 'validated' });
  finishRun(db, runId, { total: 5, classified: 5, failed: 0, skipped: 0 });
  return { file, db, runId, ids };
}

// A raw connection with no app logic, as someone editing the file by hand would use.
function raw(file: string): Database.Database {
  return new Database(file);
}

function seqOf(db: Database.Database, kind: string, id: number): number {
  return db.prepare('SELECT seq FROM audit_log WHERE kind = ? AND ref_id = ?').pluck().get(kind, id) as number;
}

function assertBroken(r: VerifyResult, brokenAt: number, reason: RegExp): void {
  assert.equal(r.ok, false, 'tampering went unnoticed');
  if (r.ok) return;
  assert.equal(r.brokenAt, brokenAt, r.reason);
  assert.match(r.reason, reason);
}

test('the chain verifies after inserts, and its hashes are sha256(prev_hash || payload)', () => {
  const { db } = populated();
  const r = verifyAuditChain(db);
  assert.ok(r.ok);
  // run_started + 5 diagnoses + override + note + promotion + run_finished
  assert.equal(r.rows, 10);
  assert.deepEqual(r.head, auditHead(db));
  const entries = db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Array<Record<string, string | number>>;
  assert.equal(entries[0].prev_hash, GENESIS_HASH);
  assert.equal(GENESIS_HASH, '0'.repeat(64));
  let prev = GENESIS_HASH;
  for (const e of entries) {
    assert.equal(e.prev_hash, prev);
    assert.equal(e.hash, createHash('sha256').update(`${prev}${e.payload}`).digest('hex'));
    const row = db.prepare(`SELECT * FROM ${e.ref_table} WHERE id = ?`).get(e.ref_id);
    if (e.kind !== 'run_started') assert.equal(e.payload, canonicalJson(row));
    prev = e.hash as string;
  }
  assert.deepEqual(
    entries.map((e) => e.kind),
    ['run_started', 'diagnosis', 'diagnosis', 'diagnosis', 'diagnosis', 'diagnosis', 'override', 'note', 'model_promotion', 'run_finished'],
  );
  assert.deepEqual(verifyAuditChain(openHistoryDb(':memory:')), { ok: true, rows: 0, head: null });
});

test('triggers refuse UPDATE and DELETE on audited tables', () => {
  const { file, db, runId } = populated();
  db.close();
  const r = raw(file);
  for (const table of ['diagnoses', 'overrides', 'model_promotions', 'notes', 'audit_log']) {
    const col = table === 'audit_log' ? 'at' : 'created_at';
    assert.throws(() => r.prepare(`UPDATE ${table} SET ${col} = 'x'`).run(), new RegExp(`audited table ${table}: rows are append-only`));
    assert.throws(() => r.prepare(`DELETE FROM ${table}`).run(), new RegExp(`audited table ${table}: rows are append-only`));
  }
  assert.throws(() => r.prepare("UPDATE runs SET classified = 1 WHERE id = ?").run(runId), /a finished run cannot change/);
  assert.throws(() => r.prepare('DELETE FROM runs').run(), /audited table runs: rows are append-only/);
  assert.throws(() => r.prepare("UPDATE images SET sha256 = ? WHERE id = 1").run('f'.repeat(64)), /sha256 cannot change/);
  assert.throws(() => r.prepare("UPDATE models SET version = '9'").run(), /cannot change/);
  assert.throws(
    () => r.prepare("INSERT INTO diagnoses (run_id, image_sha256, model_id, model_version, probability, label, threshold, created_at) SELECT run_id, image_sha256, model_id, model_version, 0.5, 'NORMAL', 0.5, 'now' FROM diagnoses LIMIT 1").run(),
    /only be added to a running run/,
  );
  r.close();
  const again = openHistoryDb(file);
  assert.equal(verifyAuditChain(again).ok, true);
  again.close();
});

test('a running run may only change its outcome columns', () => {
  const db = openHistoryDb(':memory:');
  const { runId } = seed(db, 1);
  assert.throws(() => db.prepare("UPDATE runs SET hostname = 'elsewhere' WHERE id = ?").run(runId), /only status, finish time and counts may change/);
});

test('tamper 1: triggers dropped and a diagnosis probability edited', () => {
  const { file, db, ids } = populated();
  const r = raw(file);
  r.exec('DROP TRIGGER diagnoses_no_update');
  r.prepare('UPDATE diagnoses SET probability = 0.01 WHERE id = ?').run(ids[3]);
  r.close();
  assertBroken(verifyAuditChain(db), seqOf(db, 'diagnosis', ids[3]), /diagnoses row 4 was changed after it was logged/);
});

test('tamper 2: an audit_log row edited (payload, then payload and its hash)', () => {
  const { file, db, ids } = populated();
  const seq = seqOf(db, 'diagnosis', ids[0]);
  const r = raw(file);
  r.exec('DROP TRIGGER audit_log_no_update');
  const payload = r.prepare('SELECT payload FROM audit_log WHERE seq = ?').pluck().get(seq) as string;
  const forged = payload.replace(/"label":"[A-Z]+"/, '"label":"FORGED"');
  r.prepare('UPDATE audit_log SET payload = ? WHERE seq = ?').run(forged, seq);
  assertBroken(verifyAuditChain(db), seq, /hash does not match its payload/);

  // Re-hashing the edited entry breaks the link to the next one.
  const prev = r.prepare('SELECT prev_hash FROM audit_log WHERE seq = ?').pluck().get(seq) as string;
  r.prepare('UPDATE audit_log SET hash = ? WHERE seq = ?').run(createHash('sha256').update(prev + forged).digest('hex'), seq);
  const again = verifyAuditChain(db);
  assert.equal(again.ok, false);
  if (!again.ok) assert.ok(again.brokenAt === seq || again.brokenAt === seq + 1, again.reason);
  r.close();
});

test('tamper 3: the last diagnosis and its log row deleted from a finished run', () => {
  const { file, db, ids } = populated();
  const last = ids[ids.length - 1];
  const seq = seqOf(db, 'diagnosis', last);
  const r = raw(file);
  r.exec('DROP TRIGGER diagnoses_no_delete; DROP TRIGGER audit_log_no_delete;');
  r.prepare('DELETE FROM diagnoses WHERE id = ?').run(last);
  r.prepare('DELETE FROM audit_log WHERE seq = ?').run(seq);
  r.close();
  assertBroken(verifyAuditChain(db), seq + 1, /expected seq 6: entries are missing/);
});

test('tamper 3b: a middle diagnosis and its log row deleted, seq renumbered', () => {
  const { file, db, ids } = populated();
  const seq = seqOf(db, 'diagnosis', ids[2]);
  const r = raw(file);
  r.exec('DROP TRIGGER diagnoses_no_delete; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_no_update; DROP TRIGGER notes_no_delete;');
  r.prepare('DELETE FROM notes WHERE diagnosis_id = ?').run(ids[2]);
  r.prepare('DELETE FROM diagnoses WHERE id = ?').run(ids[2]);
  r.prepare('DELETE FROM audit_log WHERE seq = ?').run(seq);
  // Close the gap so the seq numbers look continuous: the hash links still break.
  for (const s of r.prepare('SELECT seq FROM audit_log WHERE seq > ? ORDER BY seq').pluck().all(seq) as number[]) {
    r.prepare('UPDATE audit_log SET seq = ? WHERE seq = ?').run(s - 1, s);
  }
  r.close();
  assertBroken(verifyAuditChain(db), seq, /prev_hash does not match/);
});

test('tamper 3c: deleting the newest entries of a running run needs a saved head to detect', () => {
  const file = path.join(tempDir(), 'history.sqlite');
  const db = openHistoryDb(file);
  const { ids } = seed(db, 4);
  const head = auditHead(db)!;
  const r = raw(file);
  r.exec('DROP TRIGGER diagnoses_no_delete; DROP TRIGGER audit_log_no_delete;');
  r.prepare('DELETE FROM diagnoses WHERE id = ?').run(ids[3]);
  r.prepare('DELETE FROM audit_log WHERE seq = ?').run(head.seq);
  r.close();
  // The remaining chain is consistent on its own (the known limit of an in-file chain) …
  assert.equal(verifyAuditChain(db).ok, true);
  // … but a head kept outside the file catches it.
  assertBroken(verifyAuditChain(db, { expectHead: head }), head.seq, /newest entries were removed/);
});

test('tamper 4: rows written behind the app\'s back, or their log rows removed', () => {
  const { file, db, ids } = populated();
  const r = raw(file);
  r.prepare("INSERT INTO overrides (diagnosis_id, label, reason, user_name, created_at) VALUES (?, 'PNEUMONIA', 'sneaky', 'x', 'now')").run(ids[0]);
  r.close();
  assertBroken(verifyAuditChain(db), 11, /overrides row 2 has no override audit entry/);

  const { file: f2, db: db2, runId } = populated();
  const r2 = raw(f2);
  r2.exec('DROP TRIGGER runs_finished_frozen');
  r2.prepare('UPDATE runs SET classified = 500 WHERE id = ?').run(runId);
  r2.close();
  assertBroken(verifyAuditChain(db2), 10, /runs row 1 was changed after it was logged/);
});

test('an audited insert failing rolls back the row too', () => {
  const db = openHistoryDb(':memory:');
  const { runId } = seed(db, 1);
  assert.throws(() => recordDiagnoses(db, runId, [diag(5), diag(6, { label: '' })]));
  assert.equal(db.prepare('SELECT count(*) FROM diagnoses').pluck().get(), 1);
  assert.equal(db.prepare('SELECT count(*) FROM audit_log').pluck().get(), 2);
  assert.equal(verifyAuditChain(db).ok, true);
});
