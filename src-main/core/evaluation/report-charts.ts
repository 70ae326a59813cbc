/** The report's charts as Vega-Lite specs, rendered to SVG in Node (no browser, no network). */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { EvaluationReport } from './report.ts';

const W = 320;
const H = 280;
const fin = (x: number) => (Number.isFinite(x) ? x : null);
const unit = { type: 'quantitative', scale: { domain: [0, 1] } } as const;

/** Vega-Lite specs of the report's charts, keyed by a short name (charts without data are left out). */
export function reportChartSpecs(r: EvaluationReport): Record<string, TopLevelSpec> {
  const specs: Record<string, TopLevelSpec> = {};
  const diag = { data: { values: [{ a: 0, b: 0 }, { a: 1, b: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#999' }, encoding: { x: { field: 'a', ...unit }, y: { field: 'b', ...unit } } } as const;
  if (r.roc.length) {
    const op = { fpr: 1 - r.metrics.specificity.value, tpr: r.metrics.sensitivity.value };
    specs.roc = {
      width: W, height: H, title: `ROC (AUC ${r.metrics.auc.value.toFixed(3)})`,
      layer: [
        diag,
        { data: { values: r.roc.map((p) => ({ fpr: p.fpr, tpr: p.tpr })) }, mark: { type: 'line', interpolate: 'linear' }, encoding: { x: { field: 'fpr', title: '1 − specificity', ...unit }, y: { field: 'tpr', title: 'sensitivity', ...unit }, order: { field: 'fpr' } } },
        { data: { values: [op] }, mark: { type: 'point', filled: true, size: 80, color: '#d62728' }, encoding: { x: { field: 'fpr', ...unit }, y: { field: 'tpr', ...unit } } },
      ],
    } as unknown as TopLevelSpec;
  }
  if (r.pr.length) {
    specs.pr = {
      width: W, height: H, title: `Precision–recall (AP ${r.metrics.averagePrecision.toFixed(3)})`,
      data: { values: r.pr.map((p, i) => ({ i, recall: p.recall, precision: p.precision })) },
      mark: { type: 'line', interpolate: 'step-before' },
      encoding: { x: { field: 'recall', ...unit }, y: { field: 'precision', ...unit }, order: { field: 'i' } },
    } as unknown as TopLevelSpec;
  }
  const bins = r.calibration.bins.filter((b) => b.count > 0);
  if (bins.length) {
    specs.reliability = {
      width: W, height: H, title: `Reliability (ECE ${r.calibration.ece.toFixed(3)}, Brier ${r.calibration.brier.toFixed(3)})`,
      layer: [
        diag,
        { data: { values: bins.map((b) => ({ predicted: b.meanPredicted, observed: b.fractionPositive, n: b.count })) }, mark: { type: 'line', point: true }, encoding: { x: { field: 'predicted', title: 'mean predicted P', ...unit }, y: { field: 'observed', title: 'fraction positive', ...unit } } },
      ],
    } as unknown as TopLevelSpec;
  }
  const c = r.confusion;
  const pos = r.model.positiveClass;
  const neg = r.model.negativeClass;
  specs.confusion = {
    width: 220, height: 220, title: `Confusion matrix at ${r.threshold.toFixed(3)}`,
    data: { values: [
      { truth: pos, predicted: pos, n: c.tp, cell: 'TP' }, { truth: pos, predicted: neg, n: c.fn, cell: 'FN' },
      { truth: neg, predicted: pos, n: c.fp, cell: 'FP' }, { truth: neg, predicted: neg, n: c.tn, cell: 'TN' },
    ] },
    encoding: { x: { field: 'predicted', type: 'nominal', sort: [neg, pos] }, y: { field: 'truth', type: 'nominal', sort: [neg, pos] } },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'n', type: 'quantitative', legend: null, scale: { scheme: 'blues' } } } },
      { mark: { type: 'text', fontSize: 14 }, encoding: { text: { field: 'label', type: 'nominal' } }, transform: [{ calculate: "datum.cell + ': ' + datum.n", as: 'label' }] },
    ],
  } as unknown as TopLevelSpec;
  const h = r.trainingHistory.filter((e) => Number.isFinite(e.epoch));
  if (h.length) {
    const series = { loss: 'training loss', valLoss: 'selection loss', valAuc: 'selection AUC' } as const;
    const rows = h.flatMap((e) => (Object.keys(series) as Array<keyof typeof series>).filter((k) => Number.isFinite(e[k])).map((k) => ({ epoch: e.epoch, series: series[k], value: fin(e[k]) })));
    specs.training = {
      width: W, height: H, title: 'Training curves',
      data: { values: rows },
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } }, y: { field: 'value', type: 'quantitative' }, color: { field: 'series', type: 'nominal' } },
    } as unknown as TopLevelSpec;
  }
  return specs;
}

/**
 * Renders a Vega-Lite spec to an SVG string in Node. Element ids are prefixed with `idPrefix` so
 * several charts can share one HTML page; the result refers to no external resource.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const compiled = vl.compile({ ...spec, config: { font: 'sans-serif', ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.replace(/\bid="([^"]+)"/g, `id="${idPrefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`);
  } finally {
    view.finalize();
  }
}
