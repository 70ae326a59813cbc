import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { addNote, backupHistory, openHistoryDb, queryHistory, verifyAuditChain } from './index.ts';
import { seed, sha, tempDir } from './test-helpers.ts';

test('backupHistory writes a copy that opens and verifies, with no temp files left', async () => {
  const dir = tempDir();
  const db = openHistoryDb(path.join(dir, 'history.sqlite'));
  seed(db, 20);
  addNote(db, { imageSha256: sha(3), text: 'kept in the backup' });
  const dest = path.join(dir, 'backups', 'nested', 'copy.sqlite');
  const result = await backupHistory(db, dest);
  assert.equal(result.file, dest);
  assert.ok(result.bytes > 0 && result.pages > 0);
  assert.deepEqual(fs.readdirSync(path.dirname(dest)), ['copy.sqlite']);

  // Overwrite an older backup in place.
  seed(db, 2, { id: 'm', version: '2' });
  await backupHistory(db, dest);
  const copy = openHistoryDb(dest, { fileMustExist: true });
  const v = verifyAuditChain(copy);
  assert.ok(v.ok, v.ok ? '' : v.reason);
  assert.deepEqual(v, verifyAuditChain(db));
  assert.deepEqual(queryHistory(copy), queryHistory(db));
  copy.close();
  db.close();
});

test('backupHistory works from an in-memory database and refuses a destination that looks open', async () => {
  const dir = tempDir();
  const db = openHistoryDb(':memory:');
  seed(db, 3);
  const dest = path.join(dir, 'mem.sqlite');
  await backupHistory(db, dest);
  const copy = openHistoryDb(dest);
  assert.equal(verifyAuditChain(copy).ok, true);
  await assert.rejects(backupHistory(db, dest), /-wal exists/);
  copy.close();
  assert.deepEqual(fs.readdirSync(dir), ['mem.sqlite']);
});
