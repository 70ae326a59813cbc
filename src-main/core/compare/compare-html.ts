/** `compare.json` and a self-contained `compare.html`: ROC curves overlaid (inline SVG), tables, no scripts, strict CSP. */
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { MetricWithCI } from '../../../src-shared/types.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { renderSvg } from '../evaluation/report-charts.ts';
import { esc, reportPageHead } from '../evaluation/report-html.ts';
import { comparisonJson, type Comparison } from './compare.ts';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const pval = (p: number) => (p < 0.001 ? p.toExponential(2) : p.toFixed(4));
const ci = (m: MetricWithCI, f: (x: number) => string) => `${f(m.value)} <small>(${f(m.ci95[0])} – ${f(m.ci95[1])})</small>`;
const unit = { type: 'quantitative', scale: { domain: [0, 1] } } as const;

/** A Vega-Lite spec with every model's ROC curve overlaid and each model's operating point marked. */
export function rocOverlaySpec(c: Comparison): TopLevelSpec {
  const lines = c.models.flatMap((m) => m.roc.map((p, i) => ({ model: m.name, i, fpr: p.fpr, tpr: p.tpr })));
  const points = c.models.map((m) => ({ model: m.name, fpr: 1 - m.metrics.specificity.value, tpr: m.metrics.sensitivity.value }));
  const color = { field: 'model', type: 'nominal', title: 'model' } as const;
  return {
    width: 380, height: 340, title: `ROC on ${c.pairedCases} paired cases`,
    layer: [
      { data: { values: [{ a: 0, b: 0 }, { a: 1, b: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#999' }, encoding: { x: { field: 'a', ...unit }, y: { field: 'b', ...unit } } },
      { data: { values: lines }, mark: { type: 'line', interpolate: 'linear' }, encoding: { x: { field: 'fpr', title: '1 − specificity', ...unit }, y: { field: 'tpr', title: 'sensitivity', ...unit }, color, order: { field: 'i' } } },
      { data: { values: points.filter((p) => Number.isFinite(p.fpr) && Number.isFinite(p.tpr)) }, mark: { type: 'point', filled: true, size: 80 }, encoding: { x: { field: 'fpr', ...unit }, y: { field: 'tpr', ...unit }, color } },
    ],
  } as unknown as TopLevelSpec;
}

/** Renders the comparison as one HTML page (the chart is rendered to SVG here, in Node). */
export async function renderCompareHtml(c: Comparison): Promise<string> {
  const chart = c.models.some((m) => m.roc.length) ? `<figure id="chart-roc">${await renderSvg(rocOverlaySpec(c), 'c-roc')}</figure>` : '<p>No ROC curve: the paired cases hold only one class.</p>';
  const title = `Model comparison on ${path.basename(c.folder)}`;
  const rows = c.models.map((m) => `<tr><td>${esc(m.name)}</td><td>${esc(m.version)}</td><td>${m.metrics.n}</td><td>${num(m.threshold)}</td>` +
    `<td>${ci(m.metrics.auc, num)}</td><td>${ci(m.metrics.accuracy, pct)}</td><td>${ci(m.metrics.sensitivity, pct)}</td><td>${ci(m.metrics.specificity, pct)}</td><td>${m.failures.length}</td><td>${m.trainedOn ? `<strong>${m.trainedOn}: optimistic</strong>` : '0'}</td></tr>`).join('\n');
  const tests = c.mcnemar.map((t) => `<tr><td>${esc(t.modelA)}</td><td>${esc(t.modelB)}</td><td>${t.bothRight}</td><td>${t.b}</td><td>${t.c}</td><td>${t.bothWrong}</td>` +
    `<td>${esc(t.method)}</td><td>${t.statistic === null ? '' : t.statistic.toFixed(3)}</td><td>${pval(t.pValue)}</td></tr>`).join('\n');
  const names = c.models.map((m) => m.name);
  const dis = c.disagreements.map((d) => `<tr><td class="p">${esc(d.path)}</td><td>${esc(d.truth)}</td><td>${num(d.spread)}</td>` +
    d.byModel.map((b) => `<td class="${b.correct ? 'ok' : 'bad'}">${esc(b.label)} ${b.probability.toFixed(4)}</td>`).join('') + '</tr>').join('\n');
  const excluded = c.excluded.length
    ? `<h2>Files left out of the comparison (${c.excluded.length})</h2><ul>${c.excluded.map((e) => `<li><code>${esc(e.path)}</code>: failed for ${esc(e.failedFor.join(', '))} (${esc(e.reasons.join('; '))})</li>`).join('')}</ul>`
    : '';
  return `${reportPageHead(title, 1200, 'td.bad{background:#fde2e2}td.ok{background:#e2f5e2}')}
<p>Folder <code>${esc(c.folder)}</code>: ${c.pairedCases} cases scored by every model; ${c.excluded.length} left out because a model could not score them. Created ${esc(c.created)}.</p>
<h2>Metrics at each model's own threshold</h2>
<table><thead><tr><th>model</th><th>version</th><th>n</th><th>threshold</th><th>AUC (95% CI)</th><th>accuracy</th><th>sensitivity</th><th>specificity</th><th>failed files</th><th>images it was trained on</th></tr></thead><tbody>
${rows}
</tbody></table>
<p>Intervals: Wilson score for proportions; stratified percentile bootstrap (1,000 resamples, seed 7) for AUC.</p>
<h2>ROC curves</h2>
${chart}
<h2>McNemar's test, every pair</h2>
<table><thead><tr><th>model A</th><th>model B</th><th>both right</th><th>b: only A right</th><th>c: only B right</th><th>both wrong</th><th>method</th><th>χ²</th><th>p</th></tr></thead><tbody>
${tests}
</tbody></table>
<p>${esc(c.mcnemarMethod)}.</p>
<h2>Cases where the models disagree (${c.disagreements.length})</h2>
<p>Ranked by the spread of P(positive) across models (largest first). Green: the model's label matches the truth.</p>
${c.disagreements.length ? `<table><thead><tr><th>file</th><th>truth</th><th>spread</th>${names.map((n) => `<th>${esc(n)}</th>`).join('')}</tr></thead><tbody>\n${dis}\n</tbody></table>` : '<p>none</p>'}
${excluded}
</body></html>
`;
}

/** Writes `compare.json` and `compare.html` into `dir` (created if needed), each atomically; returns their paths. */
export async function writeComparison(dir: string, c: Comparison): Promise<{ json: string; html: string }> {
  const json = path.join(dir, 'compare.json');
  const html = path.join(dir, 'compare.html');
  try {
    await writeFileAtomic(json, comparisonJson(c));
    await writeFileAtomic(html, await renderCompareHtml(c));
  } catch (e) {
    throw new Error(`${dir}: cannot write the comparison (${(e as Error).message}); choose another --out folder`);
  }
  return { json, html };
}
