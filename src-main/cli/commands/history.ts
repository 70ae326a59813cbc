import { createReadStream, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { numberFlag, parse } from '../common.ts';
import {
  CLINICIAN_LABELS, defaultHistoryPath, HistorySchemaTooNewError, openHistoryDb, queryHistory,
  type HistoryDb, type HistoryQuery, type HistoryRow,
} from '../../core/history/index.ts';

/** The --history option every history command accepts. */
export const historyOption = { history: { type: 'string' } } as const;

/** The history file a command uses: --history FILE, else the default ($CXR_HOME/history.sqlite). */
export function historyFile(flag: string | undefined): string {
  return path.resolve(flag ?? defaultHistoryPath());
}

/**
 * Opens the history at `file`, runs `fn`, and closes it. With `mustExist`, a missing file is a
 * clear error instead of a new empty history. Store errors are prefixed with the file name.
 */
export async function withHistory<T>(file: string, mustExist: boolean, fn: (db: HistoryDb) => T | Promise<T>): Promise<T> {
  if (mustExist && !existsSync(file)) {
    throw new Error(`no history at ${file}: nothing has been recorded there yet; run \`cxr classify\` first, or pass --history FILE`);
  }
  let db: HistoryDb;
  try {
    db = openHistoryDb(file, { fileMustExist: mustExist });
  } catch (e) {
    if (e instanceof HistorySchemaTooNewError) throw e;
    throw new Error(`cannot open the history ${file}: ${(e as Error).message}; check the file, or pass --history FILE`);
  }
  try {
    return await fn(db);
  } catch (e) {
    if (e instanceof Error && !(e instanceof UsageError) && !e.message.includes(file)) e.message = `${file}: ${e.message}`;
    throw e;
  } finally {
    db.close();
  }
}

/** sha256 (hex) of a file's bytes, streamed. */
export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Parses --since: a date (YYYY-MM-DD, taken as UTC midnight) or an ISO time, to an ISO string. */
export function sinceFlag(value: string | undefined, flag = '--since'): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw new UsageError(`${flag} "${value}" is not a date; use YYYY-MM-DD or an ISO time like 2025-01-31T14:00:00Z`);
  return new Date(t).toISOString();
}

/** Parses a NORMAL|PNEUMONIA label flag (any case). */
export function labelFlag(value: string | undefined, flag = '--label'): string | undefined {
  if (value === undefined) return undefined;
  const label = value.trim().toUpperCase();
  if (!(CLINICIAN_LABELS as readonly string[]).includes(label)) throw new UsageError(`${flag} must be ${CLINICIAN_LABELS.join(' or ')} (got "${value}")`);
  return label;
}

/** Turns --image PATH|HASH into the store's filter: an existing file is matched by its content hash. */
export async function imageFilter(value: string | undefined): Promise<string | undefined> {
  if (value === undefined) return undefined;
  if (existsSync(value) && statSync(value).isFile()) return hashFile(value);
  if (/^[0-9a-f]{4,64}$/i.test(value)) return value.toLowerCase();
  return path.resolve(value);
}

const usage = `usage: cxr history [--since DATE] [--label NORMAL|PNEUMONIA] [--model ID] [--image PATH|HASH]
                   [--overridden] [--limit N] [--json] [--history FILE]

Lists recorded diagnoses, newest first (default: the newest 50; --limit 0 lists all).
--label matches the effective label (a clinician's override first); --image takes an image file
(matched by content), a sha256 prefix (4+ hex digits) or the path it was first recorded under.
The history is $CXR_HOME/history.sqlite (or the per-user data folder) unless --history FILE.`;

function table(rows: HistoryRow[]): string[] {
  const lines = ['    ID  TIME (UTC)           LABEL                  P(PNEU)  MODEL                          IMAGE'];
  for (const r of rows) {
    const label = r.overrideId !== null ? `${r.finalLabel} (model: ${r.label})` : r.label;
    lines.push([
      String(r.diagnosisId).padStart(6),
      r.createdAt.slice(0, 19).replace('T', ' '),
      label.padEnd(22),
      r.probability.toFixed(4).padStart(7),
      `${r.modelId}@${r.modelVersion}`.padEnd(30),
      r.path ?? r.sha256.slice(0, 16),
    ].join('  '));
  }
  return lines;
}

export const historyCommand: Command = {
  name: 'history',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, {
      ...historyOption,
      since: { type: 'string' }, label: { type: 'string' }, model: { type: 'string' }, image: { type: 'string' },
      overridden: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' },
    }, false);
    const limit = numberFlag(values.limit, '--limit', 0, 1e9) ?? 50;
    if (!Number.isInteger(limit)) throw new UsageError(`--limit must be a whole number (got "${values.limit}")`);
    const query: HistoryQuery = {
      since: sinceFlag(values.since),
      label: labelFlag(values.label),
      modelId: values.model,
      image: await imageFilter(values.image),
      overridden: values.overridden ? true : undefined,
      limit: limit === 0 ? undefined : limit + 1,
    };
    const file = historyFile(values.history);
    const rows = await withHistory(file, true, (db) => queryHistory(db, query));
    const more = limit > 0 && rows.length > limit;
    if (more) {
      rows.length = limit;
      io.err(`(the newest ${limit} shown; --limit N shows more, --limit 0 all)`);
    }
    if (values.json) {
      io.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    if (rows.length === 0) {
      io.out(`no diagnoses match in ${file}`);
      return 0;
    }
    for (const l of table(rows)) io.out(l);
    return 0;
  },
};
