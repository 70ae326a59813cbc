#!/usr/bin/env node
// Runs every *.test.ts (unit tests next to the code, end-to-end tests in test/) with node's test runner,
// one file at a time, each in its own process group with a time limit, so that one stuck test cannot stall
// the whole run: a file past its limit is killed, named, run once more, and counted as failed if it sticks
// again. A heartbeat line names the running file when it has printed nothing for a while, and a summary at
// the end lists every failed, retried or slow file.
// Usage: node scripts/run-tests.mjs [substring-filter…]
// Environment: CXR_TEST_FILE_LIMIT_S (default 600) per file, CXR_TEST_TOTAL_LIMIT_S (default 1500) for the run.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const roots = ['src-main', 'src-shared', 'test', 'scripts'];
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    if (name === 'node_modules') continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
}
roots.forEach(walk);
const filters = process.argv.slice(2);
const chosen = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (chosen.length === 0) { console.error('no test files matched'); process.exit(1); }

const seconds = (name, fallback) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const fileLimit = seconds('CXR_TEST_FILE_LIMIT_S', 600);
const totalLimit = seconds('CXR_TEST_TOTAL_LIMIT_S', 1500);
const quietLimit = 120; // seconds of silence before a heartbeat line
const started = Date.now();
const elapsed = () => (Date.now() - started) / 1000;
const note = (s) => process.stdout.write(`\n[run-tests ${elapsed().toFixed(0)} s] ${s}\n`);
// Each file runs as its own program (node runs the tests of a file given without --test and reports them itself).
// With --test, node puts a second process in between, and --test-force-exit then sometimes ended a file before its
// last results reached that process (kernels.test.ts reported 44 or 48 of its 50 tests, as passed, in 2 of 13 runs);
// run directly, the reporter is done before the exit (45 of 45 runs complete). --test-force-exit (node ≥ 20.14) ends a file whose
// tests are all done but which left a handle open; without it such a file would wait for the limit below.
const testArgs = ['--test-reporter=spec'];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 20 || (major === 20 && minor >= 14)) testArgs.push('--test-force-exit');
let current = null; // the running file's child, killed with the runner
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { if (current) try { process.kill(-current.pid, 'SIGKILL'); } catch {} process.exit(130); });

/** Runs one test file; resolves to { code, timedOut, seconds }. */
function runFile(file, limitS) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', ...testArgs, file], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = child;
    let last = Date.now();
    let pending = '';
    child.stdout.on('data', (b) => {
      last = Date.now();
      process.stdout.write(b);
      const lines = (pending + b).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const m = /^ℹ (tests|pass|fail|cancelled|skipped) (\d+)$/.exec(line);
        if (m) counts[m[1]] += Number(m[2]);
      }
    });
    child.stderr.on('data', (b) => { last = Date.now(); process.stderr.write(b); });
    let timedOut = false;
    let code = null;
    const killTree = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } };
    const heartbeat = setInterval(() => {
      if (Date.now() - last > quietLimit * 1000) { note(`still running ${file} (${((Date.now() - t0) / 1000).toFixed(0)} s)`); last = Date.now(); }
    }, 10_000);
    const limit = setTimeout(() => { timedOut = true; killTree(); }, limitS * 1000);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(heartbeat);
      clearTimeout(limit);
      current = null;
      killTree(); // anything the file left running in its process group
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code: code ?? 1, timedOut, seconds: (Date.now() - t0) / 1000 });
    };
    // Output is complete when both pipes close; a process the file started and left behind may hold them
    // open, so the file's own exit plus a short grace is enough.
    child.on('exit', (c, signal) => { code = c ?? (signal ? 1 : 0); setTimeout(finish, 3000).unref(); });
    child.on('close', finish);
  });
}

const results = [];
const counts = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0 };
for (const [i, file] of chosen.entries()) {
  const left = totalLimit - elapsed();
  if (left <= 5) { results.push({ file, status: 'not run (the run reached its time limit)', seconds: 0 }); continue; }
  note(`${i + 1}/${chosen.length} ${file}`);
  let r = await runFile(file, Math.min(fileLimit, left));
  let status = r.code === 0 ? 'ok' : 'FAILED';
  if (r.timedOut) {
    note(`${file} did not finish within ${Math.min(fileLimit, left).toFixed(0)} s: killed (its last reported test is the one before the stuck one); running it once more`);
    const again = totalLimit - elapsed();
    if (again > 5) {
      const first = r.seconds;
      r = await runFile(file, Math.min(fileLimit, again));
      status = r.timedOut ? 'FAILED (timed out twice)' : r.code === 0 ? 'ok after a retry (the first run timed out)' : 'FAILED (after a timed-out run)';
      r.seconds += first;
    } else status = 'FAILED (timed out)';
  }
  results.push({ file, status, seconds: r.seconds });
  note(`${file}: ${status} in ${r.seconds.toFixed(1)} s`);
}

const bad = results.filter((r) => r.status !== 'ok');
const slow = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 5);
console.log(`\n# tests ${counts.tests}: pass ${counts.pass}, fail ${counts.fail}, cancelled ${counts.cancelled}, skipped ${counts.skipped}`);
console.log(`# test files: ${results.length}, ok ${results.filter((r) => r.status === 'ok').length}, other ${bad.length}; ${elapsed().toFixed(0)} s in all`);
for (const r of bad) console.log(`#   ${r.status}: ${r.file}`);
console.log(`# slowest: ${slow.map((r) => `${r.file} ${r.seconds.toFixed(0)} s`).join(', ')}`);
process.exit(bad.some((r) => !r.status.startsWith('ok')) ? 1 : 0);
