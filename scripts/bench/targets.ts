// Issue #4's targets, checked against the rows of one run. Pure: rows in, verdicts out.
import { AUTO_E2E, fmt, imagesPerSecond, ONNX_CPU, type Row } from './rows.ts';

export const TARGETS = {
  /** End-to-end classify ≥ this × the pipeline limit. */
  endToEndVsPipeline: 0.8,
  /** The fastest engine's model-only inference ≥ this × onnxruntime on the same network. */
  fastestVsOnnx: 0.9,
  /** Training on wasm, reference CNN, images/s. */
  wasmTrainingImagesPerSecond: 40,
  /** All activations + Grad-CAM of one image, seconds. */
  explainSeconds: 1,
  /** Peak RSS of a 2,000-image classify, bytes (1.5 GB). */
  memoryBytes: 1.5e9,
} as const;

export type TargetStatus = 'met' | 'not met' | 'not measured';

export interface TargetResult {
  goal: string;
  measured: string;
  status: TargetStatus;
}

/** The serial pipeline limit 1 / (1/decode + 1/model): what one image costs when decode and model add up. */
export function pipelineLimit(decodeIps: number, modelIps: number): number {
  return 1 / (1 / decodeIps + 1 / modelIps);
}

const measured = (rows: Row[]) => rows.filter((r) => !r.unavailable && Number.isFinite(imagesPerSecond(r)));
const best = (rows: Row[]) => measured(rows).sort((a, b) => imagesPerSecond(b) - imagesPerSecond(a))[0] as Row | undefined;
const verdict = (ok: boolean): TargetStatus => (ok ? 'met' : 'not met');

/** The pipeline limit of a network from this run's rows (decode-only and its best model-only row), or undefined. */
export function pipelineLimitOf(rows: Row[], network: string): { limit: number; decode: Row; model: Row } | undefined {
  const decode = best(rows.filter((r) => r.bench === 'decode only' && r.network === network));
  const model = best(rows.filter((r) => r.bench === 'model only' && r.network === network));
  if (!decode || !model) return undefined;
  return { limit: pipelineLimit(imagesPerSecond(decode), imagesPerSecond(model)), decode, model };
}

function endToEnd(rows: Row[], network: string): TargetResult {
  const goal = `end-to-end classify ≥ ${TARGETS.endToEndVsPipeline}× pipeline limit (${network} model)`;
  // The automatic choice is what a user gets; a forced engine only when there is no auto row.
  const e2eRows = measured(rows.filter((r) => r.bench === 'classify e2e' && r.network === network));
  const e2e = e2eRows.find((r) => r.engine.startsWith(AUTO_E2E)) ?? best(e2eRows);
  const lim = pipelineLimitOf(rows, network);
  if (!e2e || !lim) return { goal, measured: 'needs a classify e2e, a decode-only and a model-only row', status: 'not measured' };
  const ratio = imagesPerSecond(e2e) / lim.limit;
  return {
    goal,
    measured: `${fmt(ratio, 2)}× (${e2e.engine}: ${fmt(imagesPerSecond(e2e))} img/s; limit ${fmt(lim.limit)} img/s from decode ${fmt(imagesPerSecond(lim.decode))} and ${lim.model.engine} batch ${lim.model.batch} ${fmt(imagesPerSecond(lim.model))})`,
    status: verdict(ratio >= TARGETS.endToEndVsPipeline),
  };
}

function fastestEngine(rows: Row[], network: string, batch: number): TargetResult {
  const goal = `fastest engine model-only ≥ ${TARGETS.fastestVsOnnx}× onnxruntime (${network}, batch ${batch})`;
  const candidates = rows.filter((r) => r.bench === 'model only' && r.network === network && r.batch === batch);
  const onnx = measured(candidates).find((r) => r.engine === ONNX_CPU);
  const fastest = best(candidates);
  if (!onnx || !fastest) return { goal, measured: 'needs onnxruntime cpu and at least one model-only row', status: 'not measured' };
  const ratio = imagesPerSecond(fastest) / imagesPerSecond(onnx);
  const tfjs = best(candidates.filter((r) => r.engine.startsWith('tfjs')));
  const tfjsNote = tfjs && tfjs !== fastest ? `; fastest TensorFlow.js: ${tfjs.engine} ${fmt(imagesPerSecond(tfjs) / imagesPerSecond(onnx), 2)}×` : '';
  return { goal, measured: `${fmt(ratio, 2)}× (fastest: ${fastest.engine}, ${fmt(imagesPerSecond(fastest))} img/s${tfjsNote})`, status: verdict(ratio >= TARGETS.fastestVsOnnx) };
}

function wasmTraining(rows: Row[], network: string): TargetResult {
  const goal = `training on wasm ≥ ${TARGETS.wasmTrainingImagesPerSecond} img/s (${network} CNN)`;
  const r = best(rows.filter((c) => c.bench === 'training' && c.network === network && c.engine.startsWith('tfjs wasm')));
  if (!r) return { goal, measured: 'no wasm training row', status: 'not measured' };
  const ips = imagesPerSecond(r);
  return { goal, measured: `${fmt(ips)} img/s (${r.engine}, batch ${r.batch})`, status: verdict(ips >= TARGETS.wasmTrainingImagesPerSecond) };
}

function explain(rows: Row[]): TargetResult {
  const goal = `all activations + Grad-CAM of one image ≤ ${TARGETS.explainSeconds} s`;
  const rs = measured(rows.filter((r) => r.bench === 'activations + Grad-CAM'));
  if (!rs.length) return { goal, measured: 'no activations + Grad-CAM row', status: 'not measured' };
  const parts = rs.map((r) => ({ r, s: 1 / imagesPerSecond(r) }));
  return {
    goal,
    measured: parts.map(({ r, s }) => `${r.network}: ${fmt(s, 2)} s`).join('; '),
    status: verdict(parts.every(({ s }) => s <= TARGETS.explainSeconds)),
  };
}

function memory(rows: Row[]): TargetResult {
  const goal = `2,000-image classify < ${TARGETS.memoryBytes / 1e9} GB peak RSS`;
  const r = rows.find((c) => c.bench === 'memory' && !c.unavailable && c.peakRssBytes !== undefined);
  if (!r) {
    const why = rows.find((c) => c.bench === 'memory')?.unavailable;
    return { goal, measured: why ?? 'no memory row', status: 'not measured' };
  }
  const small = r.images < 2000 ? ` — only ${r.images} images, so this does not show the goal` : '';
  return {
    goal,
    measured: `${fmt(r.peakRssBytes! / 1e6, 0)} MB over ${r.images} images${small}`,
    status: r.images < 2000 ? 'not measured' : verdict(r.peakRssBytes! < TARGETS.memoryBytes),
  };
}

/** Every issue #4 target, evaluated on this run's rows. */
export function evaluateTargets(rows: Row[], o: { defaultNetwork: string; referenceNetwork: string }): TargetResult[] {
  const networks = [...new Set([o.referenceNetwork, o.defaultNetwork])];
  return [
    endToEnd(rows, o.defaultNetwork),
    ...networks.map((n) => fastestEngine(rows, n, 32)),
    wasmTraining(rows, o.referenceNetwork),
    explain(rows),
    memory(rows),
  ];
}
