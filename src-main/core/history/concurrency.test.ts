import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import {
  addNote, findDiagnosedImages, getRun, markInterruptedRuns, openHistoryDb, queryHistory, upsertImage, verifyAuditChain,
} from './index.ts';
import { sha, tempDir } from './test-helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const writer = path.join(here, 'test-writer.ts');

interface Writer {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnWriter(args: string[]): Writer {
  // Its own process group, so that a kill reaches whatever it started too (tsx's esbuild service).
  const child = spawn(process.execPath, ['--import', 'tsx', writer, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  after(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } });
  const lines: string[] = [];
  let err = '';
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, stderr: () => err, exited };
}

const tick = () => new Promise((r) => setTimeout(r, 2));

test('a writer process records 500 diagnoses while this process reads and writes: no SQLITE_BUSY', { timeout: 60_000 }, async () => {
  const file = path.join(tempDir(), 'history.sqlite');
  const db = openHistoryDb(file);
  upsertImage(db, { sha256: sha('note-target'), path: '/n.png' });
  const w = spawnWriter([file, '500', '25', '2']);
  let exited = false;
  void w.exited.then(() => (exited = true));

  let reads = 0;
  let notes = 0;
  let maxSeen = 0;
  while (!exited) {
    const n = queryHistory(db, { modelId: 'test' }).length;
    assert.ok(n >= maxSeen && n % 25 === 0, `saw ${n} rows after ${maxSeen}: a chunk was not atomic`);
    maxSeen = n;
    if (reads % 5 === 0) {
      const v = verifyAuditChain(db);
      assert.ok(v.ok, v.ok ? '' : v.reason);
      addNote(db, { imageSha256: sha('note-target'), text: `read ${reads}` });
      notes++;
    }
    reads++;
    await tick();
  }
  const { code } = await w.exited;
  assert.equal(code, 0, w.stderr());
  assert.doesNotMatch(w.stderr(), /SQLITE_BUSY|locked/i);
  assert.ok(w.lines.includes('done 1'), w.lines.join('\n'));
  assert.ok(reads > 10 && notes > 2, `only ${reads} reads, ${notes} notes overlapped the writer`);
  assert.equal(queryHistory(db, { modelId: 'test' }).length, 500);
  const v = verifyAuditChain(db);
  assert.ok(v.ok);
  assert.equal(v.rows, 500 + 2 + notes);
  assert.equal(getRun(db, 1)!.status, 'completed');
  db.close();
});

test('kill -9 of a writer mid-way leaves a database that opens, verifies and can mark the run interrupted', { timeout: 60_000 }, async () => {
  const file = path.join(tempDir(), 'history.sqlite');
  const w = spawnWriter([file, '100000', '20', '1']);
  while (w.lines.filter((l) => l.startsWith('chunk ')).length < 5) {
    if (w.child.exitCode !== null) assert.fail(`writer ended early: ${w.stderr()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  process.kill(-w.child.pid!, 'SIGKILL');
  const { signal } = await w.exited;
  assert.equal(signal, 'SIGKILL');

  const db = openHistoryDb(file);
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  const before = verifyAuditChain(db);
  assert.ok(before.ok, before.ok ? '' : before.reason);
  const recorded = db.prepare('SELECT count(*) FROM diagnoses').pluck().get() as number;
  assert.ok(recorded >= 100 && recorded % 20 === 0, `recorded ${recorded}: chunks must be whole`);
  assert.equal(getRun(db, 1)!.status, 'running');

  assert.deepEqual(markInterruptedRuns(db), [1]);
  const run = getRun(db, 1)!;
  assert.equal(run.status, 'interrupted');
  assert.equal(run.classified, recorded);
  const after = verifyAuditChain(db);
  assert.ok(after.ok, after.ok ? '' : after.reason);
  assert.equal(after.rows, before.rows + 1);
  // A re-run finds what was already done.
  const hashes = queryHistory(db, { runId: 1 }).map((r) => r.sha256);
  assert.equal(findDiagnosedImages(db, 'test', '1.0.0', hashes).size, recorded);
  db.close();
});
