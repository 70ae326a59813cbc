/** Batch runs: started, finished, or found interrupted after a crash. */
import os from 'node:os';
import { appendAudit } from './audit-log.ts';
import { requireModel } from './models.ts';
import { nowIso, orNull, osUser, prepare, requireText, writeTx } from './sql-util.ts';
import type { HistoryDb, RunCounts, RunInfo, RunRow, RunStatus } from './types.ts';

const RUN_COLUMNS = `id, status, started_at AS startedAt, finished_at AS finishedAt, os_user AS user, hostname,
  platform, pid, app_version AS appVersion, backend, engine, model_id AS modelId, model_version AS modelVersion,
  threshold, folder, inputs_json AS inputs, total, classified, failed, skipped, diagnoses_recorded AS diagnosesRecorded`;

/**
 * Records the start of a batch run (audited as run_started) and returns its id.
 * The model version must already be recorded (upsertModel). User, host name,
 * platform and pid default to this process.
 */
export function startRun(db: HistoryDb, info: RunInfo): number {
  const modelId = requireText(info.modelId, 'model id');
  const modelVersion = requireText(info.modelVersion, 'model version');
  if (!Number.isFinite(info.threshold)) throw new Error(`run threshold must be a number, got ${info.threshold}`);
  return writeTx(db, () => {
    requireModel(db, modelId, modelVersion);
    const id = Number(
      prepare(
        db,
        `INSERT INTO runs (status, started_at, os_user, hostname, platform, pid, app_version, backend, engine,
           model_id, model_version, threshold, folder, inputs_json, total)
         VALUES ('running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        info.startedAt ?? nowIso(),
        info.user ?? osUser(),
        info.hostname ?? os.hostname(),
        info.platform ?? `${process.platform}-${process.arch}`,
        info.pid ?? process.pid,
        orNull(info.appVersion),
        orNull(info.backend),
        orNull(info.engine),
        modelId,
        modelVersion,
        info.threshold,
        orNull(info.folder),
        info.inputs ? JSON.stringify(info.inputs) : null,
        orNull(info.total),
      ).lastInsertRowid,
    );
    appendAudit(db, 'run_started', id);
    return id;
  });
}

/** A run by id, or undefined. */
export function getRun(db: HistoryDb, runId: number): RunRow | undefined {
  const row = prepare<RunRow & { inputs: string | null }>(db, `SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(runId);
  return row ? { ...row, inputs: row.inputs ? (JSON.parse(row.inputs) as string[]) : null } : undefined;
}

/** Runs, newest first. */
export function listRuns(db: HistoryDb, opts: { status?: RunStatus; limit?: number } = {}): RunRow[] {
  const rows = prepare<RunRow & { inputs: string | null }>(
    db,
    `SELECT ${RUN_COLUMNS} FROM runs WHERE (@status IS NULL OR status = @status) ORDER BY id DESC LIMIT @limit`,
  ).all({ status: opts.status ?? null, limit: opts.limit ?? -1 });
  return rows.map((r) => ({ ...r, inputs: r.inputs ? (JSON.parse(r.inputs) as string[]) : null }));
}

/**
 * Ends a running run with the caller's counts and status (audited as run_finished,
 * together with the number of diagnoses recorded, which verifyAuditChain re-counts).
 */
export function finishRun(
  db: HistoryDb,
  runId: number,
  counts: RunCounts,
  status: Exclude<RunStatus, 'running'> = 'completed',
): void {
  if (status !== 'completed' && status !== 'interrupted') {
    throw new Error(`a run finishes as completed or interrupted, not ${JSON.stringify(status)}`);
  }
  for (const k of ['total', 'classified', 'failed', 'skipped'] as const) {
    if (!Number.isInteger(counts[k]) || counts[k] < 0) throw new Error(`run count ${k} must be a whole number ≥ 0, got ${counts[k]}`);
  }
  writeTx(db, () => {
    finish(db, runId, status, counts);
  });
}

function finish(db: HistoryDb, runId: number, status: RunStatus, counts: Partial<RunCounts>): void {
  const run = prepare<{ status: string }>(db, 'SELECT status FROM runs WHERE id = ?').get(runId);
  if (!run) throw new Error(`run ${runId} does not exist in the history`);
  if (run.status !== 'running') throw new Error(`run ${runId} already finished (${run.status})`);
  prepare(
    db,
    `UPDATE runs SET status = @status, finished_at = @at,
       total = coalesce(@total, total), classified = coalesce(@classified, classified),
       failed = coalesce(@failed, failed), skipped = coalesce(@skipped, skipped),
       diagnoses_recorded = (SELECT count(*) FROM diagnoses WHERE run_id = @id)
     WHERE id = @id`,
  ).run({
    id: runId,
    status,
    at: nowIso(),
    total: counts.total ?? null,
    classified: counts.classified ?? null,
    failed: counts.failed ?? null,
    skipped: counts.skipped ?? null,
  });
  appendAudit(db, 'run_finished', runId);
}

export interface MarkInterruptedOptions {
  /** Also mark runs whose process is still alive, or that belong to another host. */
  all?: boolean;
  /** Whether the run's writer is alive; default: same host name and the pid answers signal 0. */
  isAlive?: (run: { pid: number | null; hostname: string | null }) => boolean;
}

/**
 * Marks runs left 'running' by a writer that died (crash, kill -9) as 'interrupted',
 * with classified = the diagnoses actually recorded. Runs of live processes on this host,
 * and runs of other hosts, are left alone unless `all`. Returns the ids marked.
 */
export function markInterruptedRuns(db: HistoryDb, opts: MarkInterruptedOptions = {}): number[] {
  const isAlive = opts.isAlive ?? defaultIsAlive;
  return writeTx(db, () => {
    const running = prepare<{ id: number; pid: number | null; hostname: string | null }>(
      db,
      "SELECT id, pid, hostname FROM runs WHERE status = 'running' ORDER BY id",
    ).all();
    const marked: number[] = [];
    for (const r of running) {
      if (!opts.all && isAlive(r)) continue;
      const recorded = prepare<number>(db, 'SELECT count(*) FROM diagnoses WHERE run_id = ?').pluck().get(r.id)!;
      finish(db, r.id, 'interrupted', { classified: recorded });
      marked.push(r.id);
    }
    return marked;
  });
}

function defaultIsAlive(run: { pid: number | null; hostname: string | null }): boolean {
  if (run.hostname !== os.hostname()) return true; // cannot tell: leave other hosts' runs alone
  if (run.pid === null) return false;
  if (run.pid === process.pid) return true;
  try {
    process.kill(run.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
