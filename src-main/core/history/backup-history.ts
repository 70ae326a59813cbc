/** Online backups of the history database. */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { HistoryDb } from './types.ts';

export interface BackupResult {
  file: string;
  bytes: number;
  pages: number;
}

/**
 * Copies the open database to `destFile` with SQLite's online backup (other connections
 * may keep writing), into a temporary file beside it that is integrity-checked and then
 * renamed over `destFile`, so the destination is never a half-written file.
 */
export async function backupHistory(db: HistoryDb, destFile: string): Promise<BackupResult> {
  const dest = path.resolve(destFile);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (fs.existsSync(`${dest}-wal`)) {
    throw new Error(`${dest}-wal exists: the destination looks open (or crashed) as a database; choose another file`);
  }
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const meta = await db.backup(tmp);
    const check = new Database(tmp, { fileMustExist: true });
    try {
      const result = check.pragma('quick_check', { simple: true });
      if (result !== 'ok') throw new Error(`backup ${tmp} failed its integrity check: ${String(result)}`);
    } finally {
      check.close();
    }
    fs.renameSync(tmp, dest);
    return { file: dest, bytes: fs.statSync(dest).size, pages: meta.totalPages };
  } catch (err) {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`]) fs.rmSync(f, { force: true });
    throw err;
  }
}
