import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { HistorySchemaTooNewError, LATEST_SCHEMA_VERSION, defaultHistoryPath, openHistoryDb, schemaVersion } from './open-db.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import { seed, tempDir } from './test-helpers.ts';

const TABLES = ['audit_log', 'diagnoses', 'images', 'model_promotions', 'models', 'notes', 'overrides', 'runs'];

function tables(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
}

test('migrates an empty in-memory database to the latest schema', () => {
  const db = openHistoryDb(':memory:');
  assert.equal(schemaVersion(db), LATEST_SCHEMA_VERSION);
  assert.deepEqual(tables(db), TABLES);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  db.close();
});

test('a file gets WAL, synchronous=NORMAL, busy_timeout, and its folder is created', () => {
  const file = path.join(tempDir(), 'a', 'b', 'history.sqlite');
  const db = openHistoryDb(file);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('synchronous', { simple: true }), 1);
  assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  db.close();
  const db2 = openHistoryDb(file, { busyTimeoutMs: 250 });
  assert.equal(db2.pragma('busy_timeout', { simple: true }), 250);
  db2.close();
});

test('re-opening is idempotent and keeps the data', () => {
  const file = path.join(tempDir(), 'history.sqlite');
  const db = openHistoryDb(file);
  seed(db, 4);
  db.close();
  for (let i = 0; i < 2; i++) {
    const again = openHistoryDb(file);
    assert.equal(schemaVersion(again), LATEST_SCHEMA_VERSION);
    assert.equal(again.prepare('SELECT count(*) FROM diagnoses').pluck().get(), 4);
    again.close();
  }
});

test('later migrations apply on top, each once; a failing one rolls back entirely', () => {
  const file = path.join(tempDir(), 'history.sqlite');
  openHistoryDb(file).close();
  let ran = 0;
  const extra: Migration = { version: LATEST_SCHEMA_VERSION + 1, name: 'extra', up: (d) => { ran++; d.exec('CREATE TABLE extra (x INTEGER) STRICT'); } };
  const db = openHistoryDb(file, { migrations: [...MIGRATIONS, extra] });
  assert.equal(schemaVersion(db), LATEST_SCHEMA_VERSION + 1);
  db.close();
  openHistoryDb(file, { migrations: [...MIGRATIONS, extra] }).close();
  assert.equal(ran, 1);

  const broken: Migration = {
    version: LATEST_SCHEMA_VERSION + 2,
    name: 'broken',
    up: (d) => { d.exec('CREATE TABLE half (x INTEGER)'); throw new Error('boom'); },
  };
  assert.throws(() => openHistoryDb(file, { migrations: [...MIGRATIONS, extra, broken] }), /boom/);
  const raw = new Database(file);
  assert.equal(raw.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION + 1);
  assert.ok(!tables(raw).includes('half'));
  raw.close();
});

test('refuses a database from a newer app without changing the file', () => {
  const dir = tempDir();
  const file = path.join(dir, 'newer.sqlite');
  const raw = new Database(file);
  raw.exec('CREATE TABLE future (x INTEGER); INSERT INTO future VALUES (1);');
  raw.pragma('user_version = 99');
  raw.close();
  const before = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const beforeFiles = fs.readdirSync(dir).sort();

  assert.throws(
    () => openHistoryDb(file),
    (err: unknown) => {
      assert.ok(err instanceof HistorySchemaTooNewError);
      assert.equal(
        err.message,
        `${file} was written by a newer version of CXR Workstation (schema 99, this app knows up to ${LATEST_SCHEMA_VERSION}); update the app; the file was not changed`,
      );
      assert.equal(err.fileVersion, 99);
      return true;
    },
  );
  assert.equal(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), before);
  assert.deepEqual(fs.readdirSync(dir).sort(), beforeFiles);
});

test('fileMustExist refuses to create a database', () => {
  const file = path.join(tempDir(), 'missing', 'history.sqlite');
  assert.throws(() => openHistoryDb(file, { fileMustExist: true }));
  assert.equal(fs.existsSync(path.dirname(file)), false);
});

test('defaultHistoryPath follows CXR_HOME, then the platform data folder', () => {
  assert.equal(defaultHistoryPath({ CXR_HOME: '/srv/cxr' }, 'linux', '/home/u'), '/srv/cxr/history.sqlite');
  assert.equal(defaultHistoryPath({}, 'linux', '/home/u'), '/home/u/.local/share/cxr-workstation/history.sqlite');
  assert.equal(defaultHistoryPath({ XDG_DATA_HOME: '/x' }, 'linux', '/home/u'), '/x/cxr-workstation/history.sqlite');
  assert.equal(
    defaultHistoryPath({}, 'darwin', '/Users/u'),
    '/Users/u/Library/Application Support/CXR Workstation/history.sqlite',
  );
  assert.equal(
    defaultHistoryPath({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u'),
    'C:\\Users\\u\\AppData\\Roaming\\CXR Workstation\\history.sqlite',
  );
  assert.equal(defaultHistoryPath({ CXR_HOME: 'D:\\cxr' }, 'win32', 'C:\\Users\\u'), 'D:\\cxr\\history.sqlite');
});

test('refuses a newer WAL-mode database too, leaving its bytes as they were', () => {
  const dir = tempDir();
  const file = path.join(dir, 'newer-wal.sqlite');
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE future (x INTEGER); INSERT INTO future VALUES (1);');
  raw.pragma('user_version = 7');
  raw.close();
  const before = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  assert.throws(() => openHistoryDb(file), /schema 7, this app knows up to/);
  assert.equal(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), before);
  assert.deepEqual(fs.readdirSync(dir), ['newer-wal.sqlite']);
});
