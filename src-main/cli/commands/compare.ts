import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, parse, progressBar, unfamiliarScoredWarning } from '../common.ts';
import { compareModels, comparisonJson, type ScoredModel } from '../../core/compare/compare.ts';
import { writeComparison } from '../../core/compare/compare-html.ts';
import { scanDataset } from '../../core/dataset/scan.ts';
import { scoreItems } from '../../core/evaluation/score-folder.ts';
import { fittedPaths, modelFittedHashes } from '../../core/models/fitted-images.ts';
import { resolveModel, type StoredModel } from '../../core/models/store.ts';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const SHOWN = 10;

export const compareCommand: Command = {
  name: 'compare',
  usage: `usage: cxr compare <model> <model>… --on <labelled-folder> [--out DIR] [--json] [--backend NAME] [--models-dir DIR]

Scores every model (an id or a model folder) on the same labelled folder (NORMAL/ and PNEUMONIA/ sub-folders),
each with its own input size, preprocessing and threshold. Shows AUC, accuracy, sensitivity and specificity
with 95% CI side by side, McNemar's test for every pair (exact binomial p when the discordant pairs b + c < 25,
else chi-square with continuity correction) and the cases where the models' labels differ, ranked by the
spread of their probabilities. A file any model cannot score is reported and left out of every paired figure.
--out DIR writes DIR/compare.json and a self-contained DIR/compare.html (ROC curves overlaid, the tables).
--json prints compare.json to stdout. Exit 0, or 2 when some files could not be scored.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...engineOptions, on: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length < 2) throw new UsageError('name at least two models to compare (ids or model folders)');
    if (!values.on) throw new UsageError('--on <labelled-folder> is required (a folder with NORMAL/ and PNEUMONIA/ sub-folders)');
    await engineFromFlags(values.backend);
    const stored: StoredModel[] = [];
    for (const m of positionals) {
      const s = await resolveModel(m, { modelsDir: values['models-dir'] });
      const twice = stored.find((t) => path.resolve(t.dir) === path.resolve(s.dir));
      if (twice) throw new UsageError(`model "${m}" is named twice (${s.dir}); name each model once`);
      stored.push(s);
    }
    const folder = path.resolve(values.on);
    const scan = await scanDataset(folder, { hash: false });
    const ids = stored.map((s) => s.metadata.id);
    const scored: ScoredModel[] = [];
    for (const s of stored) {
      const md = s.metadata;
      const name = ids.filter((id) => id === md.id).length > 1 ? `${md.id} (${s.dir})` : md.id;
      const bar = progressBar(io, `scoring ${name}`);
      let r;
      try {
        r = await scoreItems(s, scan.items, { onProgress: (d, t) => bar.update(d, t) });
      } catch (e) {
        throw new Error(`${values.on}: model ${name} cannot score this folder: ${(e as Error).message}`);
      }
      if (r.unfamiliar.length) io.err(unfamiliarScoredWarning(r.unfamiliar.length, r.sha256.length, name, r.unfamiliar[0], 'they are scored and compared'));
      const fitted = await modelFittedHashes(s, { modelsDir: values['models-dir'] });
      const trainedOn = fittedPaths(fitted.hashes, r).length;
      if (trainedOn) io.err(`warning: ${name} was trained on ${trainedOn} of these ${r.sha256.length} images: its figures are optimistic, and the comparison unfair to the others`);
      const selectedOn = fittedPaths(fitted.selected, r).length;
      if (selectedOn) io.err(`warning: ${name}'s epoch and threshold were chosen on ${selectedOn} of these ${r.sha256.length} images (its selection set): its figures are optimistic, and the comparison unfair to the others`);
      scored.push({
        name, id: md.id, version: md.version, dir: s.dir, threshold: md.threshold, positiveClass: md.positiveClass,
        negativeClass: md.classNames.find((c) => c !== md.positiveClass) ?? 'NEGATIVE', ...r, trainedOn,
      });
    }
    const c = compareModels(folder, scored);
    for (const e of c.excluded) io.err(`left out ${e.path}: failed for ${e.failedFor.join(', ')} (${e.reasons.join('; ')})`);
    if (values.json) io.out(comparisonJson(c).trimEnd());
    else {
      io.out(`${c.models.length} models on ${values.on}: ${c.pairedCases} paired cases${c.excluded.length ? `, ${c.excluded.length} left out (failed for some model)` : ''}`);
      const w = Math.max(5, ...c.models.map((m) => m.name.length));
      io.out(`  ${'model'.padEnd(w)}  ${'n'.padStart(4)}  thresh  AUC (95% CI)          accuracy  sensitivity  specificity`);
      for (const m of c.models) {
        const s = m.metrics;
        io.out(`  ${m.name.padEnd(w)}  ${String(s.n).padStart(4)}  ${num(m.threshold)}   ${num(s.auc.value)} (${num(s.auc.ci95[0])}–${num(s.auc.ci95[1])})  ${pct(s.accuracy.value).padStart(8)}  ${pct(s.sensitivity.value).padStart(11)}  ${pct(s.specificity.value).padStart(11)}`);
      }
      io.out('McNemar (b = only the first right, c = only the second right; exact binomial when b + c < 25, else chi-square with continuity correction):');
      for (const t of c.mcnemar) io.out(`  ${t.modelA} vs ${t.modelB}: b=${t.b} c=${t.c} ${t.method}${t.statistic === null ? '' : ` χ²=${t.statistic.toFixed(3)}`} p=${t.pValue < 0.001 ? t.pValue.toExponential(2) : t.pValue.toFixed(4)}`);
      io.out(`Disagreements: ${c.disagreements.length} case${c.disagreements.length === 1 ? '' : 's'}${c.disagreements.length > SHOWN ? ` (top ${SHOWN} by spread of P; all in --json / --out)` : ''}`);
      for (const d of c.disagreements.slice(0, SHOWN)) {
        io.out(`  ${path.relative(folder, d.path)}  truth ${d.truth}  spread ${d.spread.toFixed(3)}  ${d.byModel.map((b) => `${b.name}: ${b.label} ${b.probability.toFixed(3)}`).join(', ')}`);
      }
    }
    if (values.out) {
      const written = await writeComparison(path.resolve(values.out), c);
      io.err(`comparison written to ${written.html} and ${written.json}`);
    }
    return c.excluded.length ? 2 : 0;
  },
};
