// Runs the real `cxr` command line for end-to-end tests.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../src-main/core/history/csv.ts';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The shipped default model's folder, and a skip reason for tests that need it when it is missing. */
export const shipped = path.join(root, 'models', 'default');
export const noShippedModel: false | string = existsSync(path.join(shipped, 'metadata.json')) ? false : `shipped model missing at ${shipped}`;

/** Runs `node bin/cxr.mjs …args` and collects exit code, stdout and stderr. */
export function cxr(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'bin', 'cxr.mjs'), ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Parses the CSV that `cxr classify --out x.csv` writes into objects keyed by the header. */
export function parseCsvObjects(text: string): Array<Record<string, string>> {
  const [head, ...body] = parseCsv(text).filter((r) => r.length > 1 || r[0] !== '');
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

/** Largest relative difference between the weights.bin files of two saved models (|a − b| / max(1e-3, |b|)). */
export function maxRelativeWeightDiff(dirA: string, dirB: string): number {
  const read = (dir: string) => new Float32Array(readFileSync(path.join(dir, 'weights.bin')).buffer.slice(0));
  const [a, b] = [read(dirA), read(dirB)];
  if (a.length !== b.length) throw new Error(`${dirA} and ${dirB} hold different numbers of weights (${a.length} vs ${b.length})`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i])));
  return worst;
}

/** Runs `cxr …args` and sends SIGINT once `stop(stderr so far)` is true; resolves with the exit code and stderr. */
export function cxrInterrupted(args: string[], env: Record<string, string>, stop: (stderr: string) => boolean): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'bin', 'cxr.mjs'), ...args], { cwd: root, env: { ...process.env, ...env } });
    let stderr = '';
    p.stderr.on('data', (d) => {
      stderr += d;
      if (!p.killed && stop(stderr)) p.kill('SIGINT');
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
  });
}
