// Runs the real `cxr` command line for end-to-end tests.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../src-main/core/history/csv.ts';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

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
