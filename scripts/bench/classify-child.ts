// Child process for the classify benchmarks: runs the real `cxr classify` in a fresh process (so the
// engine is chosen as a user's would be, and the memory peak is the classify's own), with CXR_HOME
// pointing at a temporary folder set by the parent. Prints one `BENCH_RESULT {json}` line.
//   e2e:    per engine option set: warm-up, time for 1 image (best of 3), time for N images (best of 2–5)
//   memory: one classify over a folder; peak RSS from /proc/self/status VmHWM (else sampled rss)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src-main/cli/main.ts';
import type { CliIO } from '../../src-main/cli/command.ts';

export interface ChildRequest {
  mode: 'e2e' | 'memory';
  /** e2e: the image files; memory: one folder. */
  inputs: string[];
  /** Extra `cxr classify` arguments per measurement (e.g. ['--engine', 'tfjs', '--backend', 'wasm']). */
  runs: { label: string; args: string[] }[];
  /** Folder for the results files. */
  tmp: string;
  model?: string;
}

export interface E2eResult { label: string; n: number; seconds1: number[]; secondsN: number[]; engine: string }
export interface MemoryResult { label: string; images: number; failed: number; seconds: number; peakRssBytes: number; peakFrom: string; engine: string }
export type ChildResult = { mode: 'e2e'; results: E2eResult[] } | { mode: 'memory'; results: MemoryResult[] };

/** Runs `cxr classify` in this process; returns the seconds it took and what it said on stderr. */
async function classify(inputs: string[], args: string[], req: ChildRequest): Promise<{ seconds: number; err: string[] }> {
  const err: string[] = [];
  const io: CliIO = { out: () => {}, err: (l) => err.push(l), isTTY: false };
  const argv = ['classify', ...inputs, '--force', '--out', path.join(req.tmp, 'results.csv'), ...(req.model ? ['--model', req.model] : []), ...args];
  const t0 = performance.now();
  const code = await main(argv, io);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`cxr ${argv.slice(0, 1).join(' ')} … ${args.join(' ')} exited ${code}: ${err.filter((l) => /error|fail/i.test(l)).slice(0, 3).join(' / ') || err.slice(-3).join(' / ')}`);
  return { seconds, err };
}

/** The engine part of classify's "model … engine …" line. */
function engineOf(err: string[]): string {
  const line = err.find((l) => l.startsWith('model ')) ?? '';
  return line.match(/; engine (.*?); \d+ image file/)?.[1] ?? line;
}

function peakRss(sampled: number): { bytes: number; from: string } {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+)\s+kB/m);
    if (m) return { bytes: Number(m[1]) * 1024, from: 'VmHWM' };
  } catch { /* not Linux */ }
  return { bytes: sampled, from: 'sampled rss' };
}

async function e2e(req: ChildRequest): Promise<E2eResult[]> {
  const out: E2eResult[] = [];
  const one = [req.inputs[0]];
  for (const run of req.runs) {
    const warm = await classify(one, run.args, req); // module loads, ONNX conversion + cache, backend start
    const seconds1: number[] = [];
    const secondsN: number[] = [];
    for (let i = 0; i < 3; i++) seconds1.push((await classify(one, run.args, req)).seconds);
    // Best of 2 to 5 runs of N (more while they are short: a 1-second run is at the mercy of one hiccup).
    for (let i = 0; i < 5 && (i < 2 || secondsN.reduce((a, b) => a + b, 0) < 5); i++) secondsN.push((await classify(req.inputs, run.args, req)).seconds);
    out.push({ label: run.label, n: req.inputs.length, seconds1, secondsN, engine: engineOf(warm.err) });
  }
  return out;
}

async function memory(req: ChildRequest): Promise<MemoryResult[]> {
  let sampled = process.memoryUsage().rss;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage().rss);
  }, 50);
  try {
    const run = req.runs[0];
    const { seconds, err } = await classify(req.inputs, run.args, req);
    const summary = err.find((l) => l.startsWith('summary:')) ?? '';
    const [, images, failed] = summary.match(/summary: (\d+) classified, (\d+) failed/) ?? [];
    const peak = peakRss(Math.max(sampled, process.memoryUsage().rss));
    return [{ label: run.label, images: Number(images ?? 0), failed: Number(failed ?? 0), seconds, peakRssBytes: peak.bytes, peakFrom: peak.from, engine: engineOf(err) }];
  } finally {
    clearInterval(timer);
  }
}

const req = JSON.parse(process.argv[2] ?? '{}') as ChildRequest;
const result: ChildResult = req.mode === 'memory' ? { mode: 'memory', results: await memory(req) } : { mode: 'e2e', results: await e2e(req) };
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
