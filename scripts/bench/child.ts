// Starts classify-child.ts in a fresh Node process with a temporary CXR_HOME (so no user history or
// models are touched) and returns what it measured.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../src-main/core/models/paths.ts';
import type { ChildRequest, ChildResult } from './classify-child.ts';

/** Runs the child with `req` (its `tmp` is filled in here) and parses its BENCH_RESULT line. */
export async function runClassifyChild(req: Omit<ChildRequest, 'tmp'>): Promise<ChildResult> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cxr-bench-'));
  try {
    const root = repoRoot();
    const full: ChildRequest = { ...req, tmp };
    const child = spawn(process.execPath, [path.join(root, 'bin', 'node-ts.mjs'), path.join(root, 'scripts', 'bench', 'classify-child.ts'), JSON.stringify(full)], {
      cwd: root,
      env: { ...process.env, CXR_HOME: path.join(tmp, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (code !== 0 || !line) {
      const why = stderr.trim().split('\n').filter((l) => /error|Error/.test(l)).slice(-2).join(' / ') || stderr.trim().split('\n').slice(-2).join(' / ');
      throw new Error(`classify child exited ${code}: ${why || 'no result'}`);
    }
    return JSON.parse(line.slice('BENCH_RESULT '.length)) as ChildResult;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
