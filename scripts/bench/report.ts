// The results table and targets as Markdown (printed and written to bench/results.md). Pure.
import { BENCHES, fmt, gflops, imagesPerSecond, ONNX_CPU, ratioTo, TFJS_CPU, type Row } from './rows.ts';
import type { TargetResult } from './targets.ts';

const escape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** One table line for a row (ratios from the same run). */
export function tableLine(rows: Row[], r: Row): string {
  const batch = r.batch ? String(r.batch) : '–';
  if (r.unavailable) return `| ${r.network} | ${r.engine} | ${r.bench} | ${batch} | not available | – | – | – | – | ${escape(r.unavailable)} |`;
  const ips = imagesPerSecond(r);
  const note = [r.peakRssBytes !== undefined ? `peak RSS ${fmt(r.peakRssBytes / 1e6, 0)} MB` : '', r.note ?? ''].filter(Boolean).join('; ');
  const small = (v: number) => fmt(v, v < 1 ? 3 : 1);
  return `| ${r.network} | ${r.engine} | ${r.bench} | ${batch} | ${small(ips)} | ${fmt(1000 / ips, 2)} | ${small(gflops(r))} | ${fmt(ratioTo(rows, r, ONNX_CPU), 2)} | ${fmt(ratioTo(rows, r, TFJS_CPU), 2)} | ${escape(note)} |`;
}

/** Rows sorted by network (`order` first, then in first-seen order), then benchmark, then as measured. */
export function sortRows(rows: Row[], order: string[] = []): Row[] {
  const networks = [...new Set([...order, ...rows.map((r) => r.network)])];
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => networks.indexOf(a.r.network) - networks.indexOf(b.r.network) || BENCHES.indexOf(a.r.bench) - BENCHES.indexOf(b.r.bench) || a.i - b.i)
    .map(({ r }) => r);
}

/** The whole report: header lines, the table, the targets, and what the columns mean. */
export function renderReport(header: string[], rows: Row[], targets: TargetResult[], networkOrder: string[] = []): string[] {
  return [
    ...header,
    '',
    '| network | engine/backend | benchmark | batch | images/s | ms/image | GFLOP/s | × onnxruntime | × tfjs cpu | notes |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...sortRows(rows, networkOrder).map((r) => tableLine(rows, r)),
    '',
    '## Targets (issue #4)',
    '',
    ...targets.map((t) => `- ${t.status === 'met' ? '✔ met' : t.status === 'not met' ? '✘ not met' : '– not measured'}: ${t.goal}: ${t.measured}`),
    '',
    'Ratios compare images/s with onnxruntime-node on the CPU (the yardstick) and with the pure-JavaScript tfjs `cpu` backend,',
    'on the same network, benchmark and batch, measured in this same run. Training GFLOP/s counts forward + backward as 3× the',
    'forward FLOPs. "classify e2e" runs the real `cxr classify` (history into a temporary CXR_HOME) and excludes its fixed',
    'start-up cost: (N − 1) / (time for N images − time for 1 image). "decode only" reads, hashes, decodes and resizes the same',
    'files with sharp (2 in flight per core, no model). See bench/README.md.',
  ];
}
