// One benchmark measurement (a table row) and the arithmetic on rows: images/s, GFLOP/s, ratios to a
// peer row (same network, benchmark and batch on another engine). Pure: no TensorFlow.js, no I/O.

/** Benchmarks, in table order. */
export const BENCHES = ['model only', 'classify e2e', 'decode only', 'training', 'activations + Grad-CAM', 'memory'] as const;
export type BenchName = (typeof BENCHES)[number];

/** The engine labels ratios are taken against. */
export const ONNX_CPU = 'onnxruntime cpu';
export const TFJS_CPU = 'tfjs cpu';

/** Engine label prefix of the `cxr classify` run with the automatic engine choice. */
export const AUTO_E2E = 'cxr classify auto';

/** "cxr classify auto → onnxruntime" / "… → tfjs wasm", from the engine line classify printed. */
export function autoEngineLabel(engineLine: string): string {
  if (engineLine.startsWith('onnxruntime')) return `${AUTO_E2E} → onnxruntime ${/\bcuda\b/.test(engineLine) ? 'cuda' : 'cpu'}`;
  const backend = engineLine.match(/^tfjs \S+ (\S+)/)?.[1];
  return `${AUTO_E2E} → ${backend ? `tfjs ${backend}` : engineLine || 'unknown engine'}`;
}

/** One measurement; `unavailable` rows say why nothing was measured. */
export interface Row {
  /** 'default', 'reference', or another network key. */
  network: string;
  /** 'tfjs wasm', 'tfjs cpu', 'tfjs-node', 'tfjs-node-gpu', 'onnxruntime cpu', 'onnxruntime cuda', 'sharp', 'cxr classify …'. */
  engine: string;
  bench: BenchName;
  /** Images per step/batch; 0 when it does not apply. */
  batch: number;
  images: number;
  seconds: number;
  /** Work per image in GFLOP (training: forward + backward); 0 when not counted. */
  gflopPerImage: number;
  note?: string;
  unavailable?: string;
  /** Memory rows: the process's peak resident set in bytes. */
  peakRssBytes?: number;
}

/** A row that says why nothing was measured. */
export function unavailableRow(network: string, engine: string, bench: BenchName, why: string, batch = 0): Row {
  return { network, engine, bench, batch, images: 0, seconds: 0, gflopPerImage: 0, unavailable: why };
}

/** Images per second, or NaN for rows without a measurement. */
export function imagesPerSecond(r: Row): number {
  return r.unavailable || r.seconds <= 0 || r.images <= 0 ? NaN : r.images / r.seconds;
}

/** Achieved GFLOP/s, or NaN when the row counts no FLOPs. */
export function gflops(r: Row): number {
  return r.gflopPerImage > 0 ? imagesPerSecond(r) * r.gflopPerImage : NaN;
}

/** Images/s when a fixed start-up cost is excluded: (N − 1) / (time for N − time for 1). */
export function startupExcludedRate(n: number, secondsN: number, seconds1: number): number {
  if (n < 2) throw new Error(`start-up exclusion needs at least 2 images (got ${n})`);
  const dt = secondsN - seconds1;
  return dt > 0 ? (n - 1) / dt : NaN;
}

/** The measured row of the same network, benchmark and batch on `engine`, if any. */
export function peerRow(rows: Row[], r: Row, engine: string): Row | undefined {
  return rows.find((c) => c.engine === engine && c.network === r.network && c.bench === r.bench && c.batch === r.batch && !c.unavailable);
}

/** images/s of `r` over its peer on `engine`; NaN without a peer or a measurement. */
export function ratioTo(rows: Row[], r: Row, engine: string): number {
  const peer = peerRow(rows, r, engine);
  return peer ? imagesPerSecond(r) / imagesPerSecond(peer) : NaN;
}

/** A number for the table: `digits` decimals, '–' for NaN. */
export function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}
