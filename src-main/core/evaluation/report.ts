/** The evaluation report of one model on one labelled folder: every number `report.json` and `report.html` show. */
import type { FileFailure, FormSignal, HeldFixedAuc, MetricWithCI, ModelMetadata } from '../../../src-shared/types.ts';
import type { ModelInputView } from '../dataset/form-signals.ts';
import { calibrationSummary, type CalibrationSummary } from './calibration.ts';
import type { FramingCheck } from './framing.ts';
import { averagePrecision, prCurve, rocCurve, type PrPoint, type RocPoint } from './curves.ts';
import { auc, aucBootstrapCI } from './metrics.ts';
import { thresholdRates, type Confusion, type ThresholdRates } from './rates.ts';

/** Which confusion-matrix cell a case falls in. */
export type Cell = 'TP' | 'FP' | 'TN' | 'FN';

/** One evaluated image. */
export interface CaseResult {
  path: string;
  truth: string;
  probability: number;
  cell: Cell;
}

/** Everything an evaluation report shows. */
export interface EvaluationReport {
  schemaVersion: 1;
  created: string;
  model: { id: string; version: string; architecture: string; threshold: number; thresholdChosenBy: string; positiveClass: string; negativeClass: string; input: ModelInputView };
  dataset: { name: string; folder: string; n: number; positives: number; negatives: number; failures: FileFailure[]; trainedOn?: TrainedOn; selectedOn?: TrainedOn };
  threshold: number;
  confusion: Confusion;
  metrics: ThresholdRates & { auc: MetricWithCI; averagePrecision: number };
  roc: RocPoint[];
  pr: PrPoint[];
  calibration: CalibrationSummary;
  /** Cases grouped by confusion cell, each list sorted from the most to the least confident error/hit. */
  cells: Record<Cell, CaseResult[]>;
  cases: CaseResult[];
  /** Per-epoch training curves from the model's metadata, when it has them. */
  trainingHistory: Array<Record<string, number>>;
  /** How well each file property alone (size, resolution, aspect, channels) separates this folder's classes; empty when not measured. */
  formSignals: FormSignal[];
  /** The model's AUC with each flagged property held fixed (see held-fixed.ts); empty when none is flagged. */
  heldFixed: HeldFixedAuc[];
  /** The same images framed tighter (cxr evaluate --framing), or null when not asked for. */
  framing: FramingCheck | null;
}

/** Images of the evaluated folder the model was fitted on, or selected on (by content): the metrics are optimistic. */
export interface TrainedOn {
  images: number;
  examples: string[];
}

/** What buildEvaluationReport needs. */
export interface ReportInput {
  metadata: ModelMetadata;
  name: string;
  folder: string;
  /** Paths, 0/1 truth and P(positive), in the same order. */
  paths: string[];
  labels: number[];
  probabilities: number[];
  failures?: FileFailure[];
  trainedOn?: TrainedOn;
  /** Images its epoch and threshold were chosen on (its selection set), not fitted on. */
  selectedOn?: TrainedOn;
  formSignals?: FormSignal[];
  heldFixed?: HeldFixedAuc[];
  framing?: FramingCheck;
  threshold?: number;
  created?: string;
}

/** Builds the report: metrics with 95% intervals, ROC/PR curves, calibration and per-case cells. */
export function buildEvaluationReport(r: ReportInput): EvaluationReport {
  const md = r.metadata;
  const threshold = r.threshold ?? md.threshold;
  const { labels, probabilities: p } = r;
  if (labels.length !== p.length || labels.length !== r.paths.length) throw new Error('report: paths, labels and probabilities differ in length');
  const negativeClass = md.classNames.find((c) => c !== md.positiveClass) ?? 'NEGATIVE';
  const { confusion, rates } = thresholdRates(labels, p, threshold);
  const cases: CaseResult[] = r.paths.map((path, i) => {
    const pos = p[i] >= threshold;
    const cell: Cell = labels[i] === 1 ? (pos ? 'TP' : 'FN') : pos ? 'FP' : 'TN';
    return { path, truth: labels[i] === 1 ? md.positiveClass : negativeClass, probability: p[i], cell };
  });
  const cells: Record<Cell, CaseResult[]> = { TP: [], FP: [], TN: [], FN: [] };
  for (const c of cases) cells[c.cell].push(c);
  for (const k of ['TP', 'FP'] as const) cells[k].sort((a, b) => b.probability - a.probability);
  for (const k of ['TN', 'FN'] as const) cells[k].sort((a, b) => a.probability - b.probability);
  const pr = prCurve(labels, p);
  const positives = labels.filter((l) => l === 1).length;
  return {
    schemaVersion: 1,
    created: r.created ?? new Date().toISOString(),
    model: { id: md.id, version: md.version, architecture: md.architecture, threshold: md.threshold, thresholdChosenBy: md.thresholdChosenBy, positiveClass: md.positiveClass, negativeClass, input: { resize: md.input.resize, channels: md.input.channels, ...(md.input.tone ? { tone: md.input.tone } : {}), ...(md.input.toneByChannel ? { toneByChannel: md.input.toneByChannel } : {}) } },
    dataset: { name: r.name, folder: r.folder, n: labels.length, positives, negatives: labels.length - positives, failures: r.failures ?? [], ...(r.trainedOn?.images ? { trainedOn: r.trainedOn } : {}), ...(r.selectedOn?.images ? { selectedOn: r.selectedOn } : {}) },
    threshold,
    confusion,
    metrics: { auc: { value: auc(labels, p), ci95: aucBootstrapCI(labels, p) }, averagePrecision: averagePrecision(pr), ...rates },
    roc: rocCurve(labels, p),
    pr,
    calibration: calibrationSummary(labels, p),
    cells,
    cases,
    trainingHistory: md.training?.history ?? [],
    formSignals: r.formSignals ?? [],
    heldFixed: r.heldFixed ?? [],
    framing: r.framing ?? null,
  };
}

/** JSON text of a report; NaN and ±Infinity (undefined metrics, the curves' start threshold) become null. */
export function reportJson(report: EvaluationReport): string {
  return JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
