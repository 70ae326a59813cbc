/** Opening the history database: pragmas, migrations, and where it lives by default. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations/index.ts';
import type { HistoryDb } from './types.ts';

export interface OpenHistoryOptions {
  /** How long to wait for another writer's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Fail instead of creating a new file (and its folder). */
  fileMustExist?: boolean;
  /** The migrations to apply; for tests. */
  migrations?: readonly Migration[];
}

/** Thrown when the file's schema is newer than this app knows; the file is left untouched. */
export class HistorySchemaTooNewError extends Error {
  readonly file: string;
  readonly fileVersion: number;
  readonly knownVersion: number;
  constructor(file: string, fileVersion: number, knownVersion: number) {
    super(
      `${file} was written by a newer version of CXR Workstation (schema ${fileVersion}, this app knows up to ${knownVersion}); update the app; the file was not changed`,
    );
    this.name = 'HistorySchemaTooNewError';
    this.file = file;
    this.fileVersion = fileVersion;
    this.knownVersion = knownVersion;
  }
}

/**
 * Opens (creating if needed) the history database: WAL, busy_timeout, foreign keys,
 * synchronous=NORMAL, then applies pending migrations, each in its own transaction.
 * Throws HistorySchemaTooNewError, without writing, when the file is from a newer app.
 */
export function openHistoryDb(file: string, opts: OpenHistoryOptions = {}): HistoryDb {
  const migrations = opts.migrations ?? MIGRATIONS;
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  const memory = file === ':memory:';
  if (!memory && !opts.fileMustExist) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });

  const db = new Database(file, { fileMustExist: opts.fileMustExist ?? false });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    // Read the version before anything that could write to the file.
    const found = db.pragma('user_version', { simple: true }) as number;
    if (found > known) throw new HistorySchemaTooNewError(file, found, known);

    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    if (found < known) applyMigrations(db, file, migrations, known);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function applyMigrations(db: HistoryDb, file: string, migrations: readonly Migration[], known: number): void {
  for (const m of migrations) {
    db.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > known) throw new HistorySchemaTooNewError(file, current, known);
      if (current >= m.version) return;
      if (current !== m.version - 1) {
        throw new Error(`${file}: schema ${current} cannot be migrated by ${m.version}-${m.name}`);
      }
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/** The schema version stored in an open database (PRAGMA user_version). */
export function schemaVersion(db: HistoryDb): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export { LATEST_SCHEMA_VERSION };

/**
 * Where the history lives by default: `$CXR_HOME/history.sqlite` when CXR_HOME is set,
 * else the per-user data folder (XDG on Linux, Application Support on macOS, %APPDATA% on Windows).
 */
export function defaultHistoryPath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (env.CXR_HOME) return p.join(env.CXR_HOME, 'history.sqlite');
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support', 'CXR Workstation', 'history.sqlite');
  if (platform === 'win32') {
    const appData = env.APPDATA || p.join(home, 'AppData', 'Roaming');
    return p.join(appData, 'CXR Workstation', 'history.sqlite');
  }
  const data = env.XDG_DATA_HOME || p.join(home, '.local', 'share');
  return p.join(data, 'cxr-workstation', 'history.sqlite');
}
