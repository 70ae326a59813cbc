// End-to-end tests of the history side of the `cxr` CLI: classify records runs, history, override,
// export, audit verify, backup; tampering, kill -9 mid-run and a concurrent reader.
// Needs ../shared/data (test-dev to classify, train/ for a tiny model trained in `before`).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { exportColumns, parseCsv, type HistoryExport, type HistoryRow } from '../src-main/core/history/index.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(repo, '../shared/data');
const testDev = path.join(data, 'test-dev');
const skip = fs.existsSync(testDev) && fs.existsSync(path.join(data, 'train'))
  ? false
  : `skipped: ${data} (test-dev/ and train/) is absent; these end-to-end tests need the shared data set`;

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
interface Running { child: ChildProcess; done: Promise<Result> }

let tmp = '';
let model = '';
let many = '';
const MANY_COPIES = 4;

function start(args: string[], home: string): Running {
  const child = spawn(process.execPath, [path.join(repo, 'bin/cxr.mjs'), ...args], {
    cwd: repo, env: { ...process.env, CXR_HOME: home, CXR_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Result>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const cxr = (args: string[], home: string) => start(args, home).done;
const dbOf = (home: string) => path.join(home, 'history.sqlite');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sql<T>(file: string, query: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(query).all(...params) as T[];
  } finally {
    db.close();
  }
}
const count = (file: string, table: string) => sql<{ n: number }>(file, `SELECT count(*) AS n FROM ${table}`)[0].n;

function ok(r: Result, what: string): Result {
  assert.equal(r.code, 0, `${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** Writes MANY_COPIES distinct small PNGs per test-dev image (one changed pixel each) into sub-folders. */
async function buildMany(dir: string): Promise<void> {
  const sources = fs.readdirSync(testDev, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  for (let k = 0; k < MANY_COPIES; k++) fs.mkdirSync(path.join(dir, `part${k}`, 'nested'), { recursive: true });
  await Promise.all(sources.map(async (e, i) => {
    const raw = await sharp(path.join(e.parentPath, e.name)).greyscale().resize(96, 96, { fit: 'fill' }).raw().toBuffer();
    for (let k = 0; k < MANY_COPIES; k++) {
      const px = Buffer.from(raw);
      px[0] = (px[0] + k + 1) % 256;
      const sub = k % 2 ? path.join(`part${k}`, 'nested') : `part${k}`;
      await sharp(px, { raw: { width: 96, height: 96, channels: 1 } }).png().toFile(path.join(dir, sub, `img${i}.png`));
    }
  }));
}

describe('cxr history CLI (end to end)', { skip }, () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-history-cli-'));
    model = path.join(tmp, 'tiny');
    many = path.join(tmp, 'many');
    const [train] = await Promise.all([
      cxr(['train', data, '--id', 'tiny', '--max-per-class', '12', '--epochs', '1', '--input-size', '64', '--out', model], path.join(tmp, 'train-home')),
      buildMany(many),
    ]);
    ok(train, 'training the tiny model');
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const homeA = () => path.join(tmp, 'a');

  test('(a) classify records 80 diagnoses; a re-run skips them; --force re-classifies', async () => {
    const home = homeA();
    const first = ok(await cxr(['classify', testDev, '--model', model], home), 'classify');
    assert.match(first.stderr, /summary: 80 classified, 0 failed/);
    assert.equal(first.stdout.trim().split('\n').length, 80, 'one stdout line per image, as before');
    assert.equal(count(dbOf(home), 'diagnoses'), 80);
    const head = /audit head: (\d+:[0-9a-f]{64})/.exec(first.stderr)?.[1];
    assert.ok(head, `no audit head printed:\n${first.stderr}`);
    const [listed, verified] = await Promise.all([cxr(['history', '--json', '--limit', '0'], home), cxr(['audit', 'verify', '--expect-head', head], home)]);
    const rows = JSON.parse(ok(listed, 'history').stdout) as HistoryRow[];
    assert.equal(rows.length, 80);
    assert.ok(rows.every((r) => path.isAbsolute(r.path!) && r.path!.startsWith(testDev)));
    assert.match(ok(verified, 'audit verify').stdout, /audit chain ok: 82 entries/);

    const again = ok(await cxr(['classify', testDev, '--model', model, '--out', path.join(tmp, 'again.csv')], home), 're-run');
    assert.match(again.stderr, /summary: 0 classified/);
    assert.match(again.stderr, /skipped: 80 already classified .*their earlier results are listed in/);
    assert.equal(count(dbOf(home), 'diagnoses'), 80);
    // The re-run's output still lists every image: the earlier result, marked with the run it comes from.
    const [head1, ...listedAgain] = parseCsv(fs.readFileSync(path.join(tmp, 'again.csv'), 'utf8')).filter((r) => r.length > 1);
    const col = (name: string) => head1.indexOf(name);
    assert.equal(listedAgain.length, 80);
    const bySha = new Map(rows.map((r) => [r.sha256, r]));
    for (const r of listedAgain) {
      const past = bySha.get(r[col('sha256')])!;
      assert.ok(past, `no earlier diagnosis for ${r[col('path')]}`);
      assert.ok(Math.abs(Number(r[col('probability')]) - past.probability) < 1e-6);
      assert.equal(r[col('label')], past.label);
      assert.match(r[col('source')], new RegExp(`^history run ${past.runId} \\(`));
    }
    const lower = ok(await cxr(['classify', testDev, '--model', model, '--threshold', '0', '--out', path.join(tmp, 'zero.json')], home), 're-run, threshold 0');
    assert.match(lower.stderr, /summary: 0 classified/);
    const zero = JSON.parse(fs.readFileSync(path.join(tmp, 'zero.json'), 'utf8')) as { results: Array<{ label: string; threshold: number }> };
    assert.equal(zero.results.length, 80);
    assert.ok(zero.results.every((r) => r.label === 'PNEUMONIA' && r.threshold === 0), 'earlier results are relabelled at this run\'s threshold');

    const forced = ok(await cxr(['classify', testDev, '--model', model, '--force'], home), 'classify --force');
    assert.match(forced.stderr, /summary: 80 classified/);
    assert.equal(count(dbOf(home), 'diagnoses'), 160);
    const runs = sql<{ status: string; classified: number; skipped: number; total: number }>(dbOf(home), 'SELECT * FROM runs ORDER BY id');
    assert.deepEqual(runs.map((r) => [r.status, r.total, r.classified, r.skipped]), [
      ['completed', 80, 80, 0], ['completed', 80, 0, 80], ['completed', 80, 0, 80], ['completed', 80, 80, 0],
    ]);
    ok(await cxr(['audit', 'verify', '--expect-head', head], home), 'audit verify after more runs');
  });

  test('(c) override shows in history --overridden and exports; --deidentify drops paths; CSV round-trips', async () => {
    const home = homeA();
    const [newest, bad, missing] = await Promise.all([
      cxr(['history', '--json', '--limit', '1'], home),
      cxr(['override', '1', '--label', 'MAYBE', '--reason', 'x'], home),
      cxr(['override', '99999', '--label', 'NORMAL', '--reason', 'x'], home),
    ]);
    const [target] = JSON.parse(ok(newest, 'history').stdout) as HistoryRow[];
    const said = target.label;
    const clinician = said === 'NORMAL' ? 'PNEUMONIA' : 'NORMAL';
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--label must be NORMAL or PNEUMONIA/);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /diagnosis 99999 does not exist/);
    ok(await cxr(['override', String(target.diagnosisId), '--label', clinician.toLowerCase(), '--reason', 'reviewed: no consolidation'], home), 'override');

    const jsonFile = path.join(tmp, 'export.json');
    const csvFile = path.join(tmp, 'export.csv');
    const [overriddenJson, overriddenTable, jsonExport, deid, csvExport] = await Promise.all([
      cxr(['history', '--overridden', '--json'], home),
      cxr(['history', '--overridden'], home),
      cxr(['export', '--format', 'json', '--out', jsonFile], home),
      cxr(['export', '--format', 'json', '--deidentify'], home),
      cxr(['export', '--out', csvFile], home),
    ]);
    const overridden = JSON.parse(ok(overriddenJson, 'history --overridden').stdout) as HistoryRow[];
    assert.deepEqual(overridden.map((r) => [r.diagnosisId, r.label, r.overrideLabel, r.finalLabel, r.overrideReason]),
      [[target.diagnosisId, said, clinician, clinician, 'reviewed: no consolidation']]);
    assert.ok(ok(overriddenTable, 'history table').stdout.includes(`${clinician} (model: ${said})`));

    ok(jsonExport, 'export json');
    const doc = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as HistoryExport;
    assert.equal(doc.rows.length, 160);
    const exported = doc.rows.find((r) => r.diagnosisId === target.diagnosisId)!;
    assert.equal(exported.overrideLabel, clinician);
    assert.equal(doc.rows.filter((r) => r.overrideId !== null).length, 1);
    assert.equal(exported.path, target.path);

    const deidDoc = JSON.parse(ok(deid, 'export --deidentify').stdout) as HistoryExport;
    assert.equal(deidDoc.deidentified, true);
    assert.equal(deidDoc.rows.length, 160);
    assert.ok(deidDoc.rows.every((r) => !('path' in r) && !('overrideReason' in r) && !('hostname' in r)));
    assert.ok(!deid.stdout.includes(testDev) && !deid.stdout.includes('no consolidation'), 'paths or reasons leaked');

    ok(csvExport, 'export csv (format from the extension)');
    const [header, ...lines] = parseCsv(fs.readFileSync(csvFile, 'utf8'));
    assert.deepEqual(header, exportColumns(false));
    assert.equal(lines.length, 160);
    const byId = new Map(doc.rows.map((r) => [String(r.diagnosisId), r]));
    for (const line of lines) {
      const row: Record<string, string> = Object.fromEntries(header.map((c, i) => [c, line[i]]));
      const j: Partial<HistoryRow> = byId.get(row.diagnosisId)!;
      assert.equal(Number(row.probability), j.probability);
      assert.equal(row.sha256, j.sha256);
      assert.equal(row.path, j.path);
      assert.equal(row.finalLabel, j.finalLabel);
    }
  });

  test('(b) tampering (triggers dropped, a probability changed) makes audit verify exit 2 naming the row; newer schema is refused', async () => {
    const home = homeA();
    const copy = path.join(tmp, 'tampered.sqlite');
    const newer = path.join(tmp, 'newer.sqlite');
    ok(await cxr(['backup', copy], home), 'backup');
    fs.copyFileSync(copy, newer);
    const [again, verified] = await Promise.all([cxr(['backup', copy], home), cxr(['audit', 'verify', '--history', copy], home)]);
    assert.equal(again.code, 1, 'backup refuses to overwrite without --force');
    assert.match(again.stderr, /exists; choose another file, or pass --force/);
    ok(verified, 'the backup verifies');

    const raw = new Database(copy);
    for (const { name } of raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]) {
      raw.exec(`DROP TRIGGER "${name}"`);
    }
    raw.prepare('UPDATE diagnoses SET probability = 0.001 WHERE id = 7').run();
    raw.close();
    const n = new Database(newer);
    n.pragma('user_version = 99');
    n.close();

    const [r, refused] = await Promise.all([cxr(['audit', 'verify', '--history', copy], home), cxr(['history', '--history', newer], home)]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /BROKEN .* at seq \d+: .*diagnoses row 7 was changed/);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /newer version of CXR Workstation \(schema 99.*update the app/);
    assert.equal(sql<{ user_version: number }>(newer, 'PRAGMA user_version')[0].user_version, 99);
  });

  test('(d) kill -9 mid-run: the history opens and verifies, the run is marked interrupted, a re-run skips what was committed; (e) readers during the re-run never see "database is locked"', async () => {
    const home = path.join(tmp, 'd');
    const total = 80 * MANY_COPIES;
    const hashes = new Set(fs.readdirSync(many, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .map((e) => createHash('sha256').update(fs.readFileSync(path.join(e.parentPath, e.name))).digest('hex')));
    assert.equal(hashes.size, total, 'the generated images are distinct');

    const run = start(['classify', many, '--model', model, '--commit-every', '10', '--batch-size', '2'], home);
    let committed = 0;
    for (let waited = 0; waited < 60_000; waited += 10) {
      if (fs.existsSync(`${dbOf(home)}-wal`)) {
        try {
          committed = count(dbOf(home), 'diagnoses');
        } catch { /* not created yet */ }
        if (committed >= 20) break;
      }
      await sleep(10);
    }
    run.child.kill('SIGKILL');
    const killed = await run.done;
    assert.equal(killed.signal, 'SIGKILL', `classify ended before it was killed:\n${killed.stderr}`);
    committed = count(dbOf(home), 'diagnoses');
    assert.ok(committed >= 20 && committed < total, `committed ${committed} of ${total}`);
    assert.equal(committed % 10, 0, 'diagnoses are committed in chunks of --commit-every');
    assert.equal(sql<{ status: string }>(dbOf(home), 'SELECT status FROM runs WHERE id = 1')[0].status, 'running');
    ok(await cxr(['audit', 'verify'], home), 'audit verify after kill -9');

    // (e) rides along: readers in a loop while the re-run writes must never see "database is locked".
    const writer = start(['classify', many, '--model', model, '--commit-every', '5', '--batch-size', '1'], home);
    let finished = false;
    void writer.done.then(() => (finished = true));
    const reads: Result[] = [];
    const reader = async (args: string[]) => {
      while (!finished) reads.push(await cxr(args, home));
    };
    await Promise.all([reader(['history', '--json', '--limit', '5']), reader(['audit', 'verify'])]);
    const rerun = ok(await writer.done, 're-run');
    assert.ok(reads.length >= 2, `only ${reads.length} reads overlapped the writer`);
    for (const r of reads) {
      assert.doesNotMatch(r.stdout + r.stderr, /database is locked|SQLITE_BUSY/i);
      ok(r, 'a concurrent reader');
    }

    assert.match(rerun.stderr, /run 1 left running by a process that is gone marked interrupted/);
    assert.match(rerun.stderr, new RegExp(`skipped: ${committed} already classified`));
    assert.match(rerun.stderr, new RegExp(`summary: ${total - committed} classified, 0 failed`));
    const runs = sql<{ status: string; classified: number; skipped: number }>(dbOf(home), 'SELECT * FROM runs ORDER BY id');
    assert.deepEqual(runs.map((r) => [r.status, r.classified, r.skipped]), [['interrupted', committed, 0], ['completed', total - committed, committed]]);
    assert.equal(count(dbOf(home), 'diagnoses'), total);
    assert.equal(sql<{ n: number }>(dbOf(home), 'SELECT count(DISTINCT image_sha256) AS n FROM diagnoses')[0].n, total);
    ok(await cxr(['audit', 'verify'], home), 'audit verify after the re-run');
  });

});
