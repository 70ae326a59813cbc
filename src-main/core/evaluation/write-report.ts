import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { reportJson, type EvaluationReport } from './report.ts';
import { renderReportHtml } from './report-html.ts';

/** Writes `report.json` and `report.html` into `dir` (created if needed), each atomically; returns their paths. */
export async function writeEvaluationReport(dir: string, report: EvaluationReport): Promise<{ json: string; html: string }> {
  const json = path.join(dir, 'report.json');
  const html = path.join(dir, 'report.html');
  try {
    await writeFileAtomic(json, reportJson(report));
    await writeFileAtomic(html, await renderReportHtml(report));
  } catch (e) {
    throw new Error(`${dir}: cannot write the evaluation report (${(e as Error).message}); choose another --out folder`);
  }
  return { json, html };
}
