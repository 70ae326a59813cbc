/** A self-contained `report.html`: inline SVG charts, no scripts, no external resources, strict CSP. */
import { FORM_SIGNAL_FLAG, formatTraitValue, traitVisibility } from '../dataset/form-signals.ts';
import type { FormTrait, MetricWithCI } from '../../../src-shared/types.ts';
import { renderSvg, reportChartSpecs } from './report-charts.ts';
import type { CaseResult, Cell, EvaluationReport, TrainedOn } from './report.ts';

/** The Content-Security-Policy the report carries: nothing may load, only inline styles apply. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** Escapes text for HTML element content and attribute values. */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

function metricRow(name: string, m: MetricWithCI, f: (x: number) => string): string {
  return `<tr><td>${esc(name)}</td><td>${f(m.value)}</td><td>${f(m.ci95[0])} – ${f(m.ci95[1])}</td></tr>`;
}

const CELL_TITLES: Record<Cell, string> = { TP: 'true positives', FN: 'false negatives (missed)', FP: 'false positives', TN: 'true negatives' };

function caseList(cell: Cell, cases: CaseResult[]): string {
  const rows = cases.map((c) => `<tr><td class="p">${esc(c.path)}</td><td>${esc(c.truth)}</td><td>${c.probability.toFixed(4)}</td></tr>`).join('');
  return `<details${cell === 'FN' || cell === 'FP' ? ' open' : ''}><summary>${cell} — ${CELL_TITLES[cell]}: ${cases.length}</summary>` +
    (cases.length ? `<table><thead><tr><th>file</th><th>truth</th><th>P(positive)</th></tr></thead><tbody>${rows}</tbody></table>` : '<p>none</p>') + '</details>';
}

/**
 * The head of a self-contained report page: strict CSP, shared styles, the title and the
 * research-use warning (a report body follows).
 */
export function reportPageHead(title: string, maxWidthPx: number, extraCss = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:${maxWidthPx}px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td.p{font-family:monospace;font-size:.85em;word-break:break-all}${extraCss}
figure{margin:0}.warn{background:#fff3cd;padding:.5em 1em;border:1px solid #e0c060}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="warn"><strong>Research software, not for diagnostic use.</strong> These figures describe this folder only; intervals are 95%.</p>`;
}

/** Renders the report as one HTML page (charts rendered to SVG here, in Node). */
export async function renderReportHtml(r: EvaluationReport): Promise<string> {
  const specs = reportChartSpecs(r);
  const charts: string[] = [];
  for (const [name, spec] of Object.entries(specs)) charts.push(`<figure id="chart-${name}">${await renderSvg(spec, `c-${name}`)}</figure>`);
  const m = r.metrics;
  const title = `Evaluation of ${r.model.id} v${r.model.version} on ${r.dataset.name}`;
  const failures = r.dataset.failures.length
    ? `<h2>Files not evaluated (${r.dataset.failures.length})</h2><ul>${r.dataset.failures.map((f) => `<li>${esc(f.path)}: ${esc(f.reason)}</li>`).join('')}</ul>`
    : '';
  const optimistic = (t: TrainedOn | undefined, what: string, aside: string, tail: string) =>
    t ? `<p class="warning"><strong>Optimistic:</strong> ${what} ${t.images} of these ${r.dataset.n} images (${aside}e.g. <code>${esc(t.examples[0] ?? '')}</code>)${tail}. Evaluate on images it never saw.</p>` : '';
  const trainedOn = optimistic(r.dataset.trainedOn, 'the model was trained on', '', '');
  const selectedOn = optimistic(r.dataset.selectedOn, "the model's epoch and threshold were chosen on", 'its selection set, ', ', above all its sensitivity and specificity at that threshold');
  return `${reportPageHead(title, 1100, '.charts{display:flex;flex-wrap:wrap;gap:1em}.warning{background:#fff3cd;border:1px solid #b58900;padding:.5em}')}
${trainedOn}${selectedOn}
<p>Folder <code>${esc(r.dataset.folder)}</code>: ${r.dataset.n} images (${r.dataset.positives} ${esc(r.model.positiveClass)}, ${r.dataset.negatives} ${esc(r.model.negativeClass)}).
Threshold ${num(r.threshold)} — ${esc(r.model.thresholdChosenBy)}. Report created ${esc(r.created)}.</p>
<h2>Metrics</h2>
<table><thead><tr><th>metric</th><th>value</th><th>95% CI</th></tr></thead><tbody>
${metricRow('AUC', m.auc, num)}
${metricRow('accuracy', m.accuracy, pct)}
${metricRow('sensitivity (recall of ' + r.model.positiveClass + ')', m.sensitivity, pct)}
${metricRow('specificity (recall of ' + r.model.negativeClass + ')', m.specificity, pct)}
${metricRow('PPV (precision)', m.ppv, pct)}
${metricRow('NPV', m.npv, pct)}
${metricRow('F1', m.f1, num)}
<tr><td>average precision</td><td>${num(m.averagePrecision)}</td><td></td></tr>
<tr><td>expected calibration error (10 bins)</td><td>${num(r.calibration.ece)}</td><td></td></tr>
<tr><td>Brier score</td><td>${num(r.calibration.brier)}</td><td></td></tr>
</tbody></table>
<p>Intervals: Wilson score for proportions; stratified percentile bootstrap (1,000 resamples, seed 7) for AUC; case bootstrap for F1.</p>
${formSection(r)}
${framingSection(r)}
<h2>Charts</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Cases by confusion cell</h2>
${(['FN', 'FP', 'TP', 'TN'] as const).map((c) => caseList(c, r.cells[c])).join('\n')}
${failures}
</body></html>
`;
}

/** What each file property alone scores on this folder, a baseline the model's AUC must clearly beat, and the model's AUC with it held fixed. */
function formSection(r: EvaluationReport): string {
  if (!r.formSignals.length) return '';
  const [neg, pos] = [r.model.negativeClass, r.model.positiveClass];
  const held = new Map(r.heldFixed.map((h) => [h.trait, h]));
  const heldCell = (trait: FormTrait) => {
    const h = held.get(trait);
    if (!h) return '';
    return h.auc === null ? `too few pairs (${h.pairs})` : `${num(h.auc)} (${h.bins} bins, ${Math.round(100 * h.pairShare)} % of pairs)`;
  };
  const rows = r.formSignals.map((s) => {
    const med = (l: string) => formatTraitValue(s.trait, s.medians[l]);
    return `<tr${s.flagged ? ' class="warning"' : ''}><td>${esc(s.trait)}${s.flagged ? ' !' : ''}</td><td>${num(s.separation)}</td><td>${esc(med(neg))}</td><td>${esc(med(pos))}</td><td>${traitVisibility(s.trait, r.model.input)}</td><td>${esc(heldCell(s.trait))}</td></tr>`;
  });
  return `<h2>Form of the files</h2>
<p>How well each property of the files alone separates ${esc(neg)} from ${esc(pos)} in this folder (AUC, either direction; 0.5 = none; ! = ${FORM_SIGNAL_FLAG} or more). These are baselines: a model that read them instead of the lungs could score as well, so its AUC above should clearly beat any it can see. For a flagged property, the last column gives the model's AUC with that property held fixed: only pairs of a ${esc(pos)} and a ${esc(neg)} image whose property falls in the same quantile bin are compared. If it stays near the model's AUC above, the model separates the classes beyond that property; if it falls toward 0.5, the model may be reading the property.</p>
<table><thead><tr><th>property</th><th>AUC alone</th><th>median ${esc(neg)}</th><th>median ${esc(pos)}</th><th>model can see it</th><th>model's AUC with it held fixed</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

/** The framing check: the same metrics with every image framed tighter, and how each class moved. */
function framingSection(r: EvaluationReport): string {
  const f = r.framing;
  if (!f) return '';
  const row = (name: string, v: { usual: number; zoomed: number }) => `<tr><td>${esc(name)}</td><td>${num(v.usual)}</td><td>${num(v.zoomed)}</td></tr>`;
  const classes = Object.entries(f.classes).map(([name, c]) => `<li>${esc(name)}: ${c.flips} of ${c.n} change label at ${num(f.threshold)}; mean logit ${num(c.meanLogit.usual)} → ${num(c.meanLogit.zoomed)}</li>`);
  return `<h2>Framing check</h2>
<p>The same ${f.n} images with each brought to ${f.zoom} times the input size and its centre kept (${Math.round((f.zoom - 1) * 100)} % tighter, as on a study collimated or cropped tighter). A large change means the model depends on how the chest fills the image.</p>
<table><thead><tr><th>metric</th><th>usual framing</th><th>tighter</th></tr></thead><tbody>
${row('AUC', f.auc)}
${row('sensitivity', f.sensitivity)}
${row('specificity', f.specificity)}
</tbody></table>
<ul>${classes.join('')}</ul>`;
}
