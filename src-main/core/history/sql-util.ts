/** Small helpers shared by the history store's SQL functions. */
import os from 'node:os';
import type Database from 'better-sqlite3';
import type { HistoryDb } from './types.ts';

const cache = new WeakMap<HistoryDb, Map<string, Database.Statement>>();

/** A prepared statement, cached per connection. */
export function prepare<R = unknown>(db: HistoryDb, sql: string): Database.Statement<unknown[], R> {
  let byText = cache.get(db);
  if (!byText) {
    byText = new Map();
    cache.set(db, byText);
  }
  let st = byText.get(sql);
  if (!st) {
    st = db.prepare(sql);
    byText.set(sql, st);
  }
  return st as Database.Statement<unknown[], R>;
}

/**
 * Runs `fn` in a BEGIN IMMEDIATE transaction (or inside the caller's transaction).
 * Taking the write lock up front lets busy_timeout wait for other writers instead of
 * failing with SQLITE_BUSY when a read transaction tries to become a write one.
 */
export function writeTx<T>(db: HistoryDb, fn: () => T): T {
  if (db.inTransaction) return fn();
  return db.transaction(fn).immediate();
}

/** Now, as an ISO-8601 UTC string with milliseconds (sorts as text). */
export function nowIso(): string {
  return new Date().toISOString();
}

/** The OS user running this process, or 'unknown'. */
export function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** Lower-cases a sha256 hex digest; throws unless it is 64 hex digits. */
export function normalizeSha256(sha256: string, what = 'sha256'): string {
  const s = String(sha256).trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(s)) throw new Error(`${what} must be 64 hex digits, got ${JSON.stringify(sha256)}`);
  return s;
}

/** Trims `text`; throws `${what} must not be empty` when nothing is left. */
export function requireText(text: unknown, what: string): string {
  const s = typeof text === 'string' ? text.trim() : '';
  if (!s) throw new Error(`${what} must not be empty`);
  return s;
}

/** null for undefined/null, else the value. */
export function orNull<T>(v: T | null | undefined): T | null {
  return v === undefined ? null : v;
}
