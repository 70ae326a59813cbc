import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, parse, progressBar, unfamiliarScoredWarning } from '../common.ts';
import { classifyFiles } from '../../core/classify/classify-files.ts';
import { describeFormSignal, readFileForms, signalsOfForms, traitVisibility } from '../../core/dataset/form-signals.ts';
import { scanDataset } from '../../core/dataset/scan.ts';
import { describeFramingCheck, framingCheck, type FramingCheck } from '../../core/evaluation/framing.ts';
import { describeHeldFixed, heldFixedAucs } from '../../core/evaluation/held-fixed.ts';
import { summarise } from '../../core/evaluation/metrics.ts';
import { buildEvaluationReport } from '../../core/evaluation/report.ts';
import { writeEvaluationReport } from '../../core/evaluation/write-report.ts';
import { tfjsPredictor } from '../../core/inference/predictor.ts';
import { renderModelCard } from '../../core/models/model-card.ts';
import { fittedPaths, modelFittedHashes } from '../../core/models/fitted-images.ts';
import { loadStoredModel, resolveModel, updateMetadata } from '../../core/models/store.ts';
import { writeFileAtomic } from '../../core/fs/atomic-write.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export const evaluateCommand: Command = {
  name: 'evaluate',
  usage: `usage: cxr evaluate <labelled-folder> [--model ID] [--record NAME] [--out DIR] [--framing ZOOM] [--tone] [--backend NAME] [--models-dir DIR] [--json]

<labelled-folder> holds NORMAL/ and PNEUMONIA/ sub-folders. The model's own threshold is used (never tuned here).
--record NAME stores the metrics in the model's metadata.json and MODEL_CARD.md under NAME.
--out DIR writes DIR/report.json and a self-contained DIR/report.html: confusion matrix with its cases,
PPV, NPV, F1, ROC and precision-recall curves, calibration (reliability bins, ECE, Brier), training curves.
Images the model was trained on (by content, from its training-data.csv) are flagged: the run warns, the report
says so, and --record refuses, since a model card's metrics must come from images the model never saw. Images
its familiarity check would refuse in cxr classify (UNFAMILIAR) are scored here, counted and named in a warning.
The report also shows how well each file property alone (size, width, height, aspect ratio, colour channels)
separates the classes: baselines the model must clearly beat; a flagged one the model can see is noted.
For each flagged property it also gives the model's AUC with that property held fixed (only pairs of images
in the same quantile bin of it are compared): near the plain AUC, the model sees more than that property.
--tone also decodes each image's grey levels (as cxr dataset --tone: mean grey level and grey-level spread of the
224 px grey centre crop) and judges them the same way.
--framing ZOOM scores the folder a second time with every image framed tighter (brought to ZOOM times the
input size, centre kept; 1.1 = 10 % tighter, as on a study collimated tighter) and reports how AUC,
sensitivity, specificity and each class's mean logit move and how many labels change.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...engineOptions, model: { type: 'string' }, record: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, framing: { type: 'string' }, tone: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('name exactly one labelled folder');
    const zoom = values.framing === undefined ? undefined : Number(values.framing);
    if (zoom !== undefined && !(zoom > 1 && zoom <= 2)) throw new UsageError(`--framing ${values.framing}: give the zoom, a number above 1 and at most 2 (1.1 = 10 % tighter)`);
    const engine = await engineFromFlags(values.backend);
    const stored = await resolveModel(values.model, { modelsDir: values['models-dir'] });
    const md = stored.metadata;
    const scan = await scanDataset(path.resolve(positionals[0]), { hash: false });
    const items = scan.items.filter((it) => it.label != null && md.classNames.some((c) => c.toLowerCase() === String(it.label).toLowerCase()));
    if (!items.length) throw new Error(`${positionals[0]}: no images in ${md.classNames.join('/')} sub-folders`);
    const truth = new Map(items.map((it) => [it.path, String(it.label).toLowerCase() === md.positiveClass.toLowerCase() ? 1 : 0]));
    const predictor = tfjsPredictor(await loadStoredModel(stored), md);
    const bar = progressBar(io, 'evaluating');
    const outcome = await classifyFiles({ files: items.map((it) => it.path), metadata: md, predictor, engine, allowUnfamiliar: true, onProgress: (d, t) => bar.update(d, t) });
    let framing: FramingCheck | undefined;
    if (zoom) {
      const again = await classifyFiles({ files: outcome.records.map((r) => r.path), metadata: md, predictor, engine, allowUnfamiliar: true, preprocess: { zoom }, onProgress: (d, t) => bar.update(d, t) });
      const negative = md.classNames.find((c) => c !== md.positiveClass) ?? 'NEGATIVE';
      framing = framingCheck(outcome.records.map((r) => ({ path: r.path, label: truth.get(r.path)!, probability: r.probability })), again.records, md.threshold, zoom, [negative, md.positiveClass]);
    }
    predictor.dispose();
    const labels = outcome.records.map((r) => truth.get(r.path)!);
    const scores = outcome.records.map((r) => r.probability);
    const name = values.record ?? path.basename(path.resolve(positionals[0]));
    const s = summarise(name, labels, scores, md.threshold);
    for (const f of outcome.failures) io.err(`skipped ${f.path}: ${f.reason}`);
    const fitted = await modelFittedHashes(stored, { modelsDir: values['models-dir'] });
    const images = { sha256: outcome.records.map((r) => r.sha256), paths: outcome.records.map((r) => r.path) };
    const seen = fittedPaths(fitted.hashes, images);
    const trainedOn = { images: seen.length, examples: seen.slice(0, 5) };
    const chosenOn = fittedPaths(fitted.selected, images);
    const selectedOn = { images: chosenOn.length, examples: chosenOn.slice(0, 5) };
    const scored = new Set(outcome.records.map((r) => r.path));
    const className = (label: string | null) => md.classNames.find((c) => c.toLowerCase() === String(label).toLowerCase()) ?? label;
    const forms = await readFileForms(items.filter((it) => scored.has(it.path)).map((it) => ({ ...it, label: className(it.label) })), { tone: !!values.tone });
    const signals = signalsOfForms(forms, md.positiveClass) ?? [];
    const heldFixed = heldFixedAucs(signals, forms, outcome.records.map((r, i) => ({ path: r.path, label: labels[i], probability: scores[i] })));
    for (const f of signals.filter((x) => x.flagged && traitVisibility(x.trait, md.input) !== 'no')) {
      const h = heldFixed.find((x) => x.trait === f.trait);
      io.err(`note: in these images, ${describeFormSignal(f, md.input)}; compare its AUC alone (${f.separation.toFixed(2)}) with the model's${h ? ` (its ${describeHeldFixed(h)})` : ''}`);
    }
    if (seen.length) io.err(`warning: ${md.id} was trained on ${seen.length} of these ${outcome.records.length} images (e.g. ${seen[0]}): the metrics below are optimistic; evaluate on images it never saw`);
    if (chosenOn.length) io.err(`warning: ${md.id}'s epoch and threshold were chosen on ${chosenOn.length} of these ${outcome.records.length} images (its selection set, e.g. ${chosenOn[0]}): the metrics below are optimistic, above all sensitivity and specificity at its threshold; evaluate on images it never saw`);
    const unfamiliar = outcome.records.filter((r) => r.unfamiliar);
    if (unfamiliar.length) io.err(unfamiliarScoredWarning(unfamiliar.length, outcome.records.length, md.id, `${unfamiliar[0].path}: ${unfamiliar[0].unfamiliar}`, 'they are scored and counted'));
    for (const u of fitted.unchecked) io.err(`note: training data of ${u} unknown, so overlap with these images was not checked`);
    if (values.json) io.out(JSON.stringify({ ...s, ...(heldFixed.length ? { heldFixed } : {}), ...(framing ? { framing } : {}) }, null, 2));
    else {
      io.out(`${md.id} v${md.version} on ${positionals[0]}: n=${s.n} (${s.positives} ${md.positiveClass}), threshold ${md.threshold.toFixed(3)}`);
      io.out(`  AUC         ${s.auc.value.toFixed(3)}  95% CI ${s.auc.ci95[0].toFixed(3)}–${s.auc.ci95[1].toFixed(3)}`);
      for (const k of ['accuracy', 'sensitivity', 'specificity'] as const) io.out(`  ${k.padEnd(11)} ${pct(s[k].value)}  95% CI ${pct(s[k].ci95[0])}–${pct(s[k].ci95[1])}`);
      for (const h of heldFixed) io.out(`  ${describeHeldFixed(h)}`);
      if (framing) for (const line of describeFramingCheck(framing)) io.out(line);
    }
    if (values.out) {
      const report = buildEvaluationReport({
        metadata: md, name, folder: path.resolve(positionals[0]), failures: outcome.failures,
        paths: outcome.records.map((r) => r.path), labels, probabilities: scores, trainedOn, selectedOn, formSignals: signals, heldFixed, framing,
      });
      const written = await writeEvaluationReport(path.resolve(values.out), report);
      io.err(`report written to ${written.html} and ${written.json}`);
    }
    if (values.record) {
      if (seen.length) throw new Error(`${seen[0]}: ${md.id} was trained on this image and ${seen.length - 1} more of this folder; metrics were not recorded as "${values.record}" (a model card's metrics must come from images the model never saw)`);
      if (chosenOn.length) throw new Error(`${chosenOn[0]}: ${md.id}'s epoch and threshold were chosen on this image and ${chosenOn.length - 1} more of this folder; metrics were not recorded as "${values.record}" (a model card's metrics must come from images the model never saw; its card already gives its selection-set figures)`);
      const next = { ...md, metrics: { ...(md.metrics ?? {}), [values.record]: s } };
      await updateMetadata(stored.dir, next);
      await writeFileAtomic(path.join(stored.dir, 'MODEL_CARD.md'), renderModelCard(next));
      io.err(`metrics recorded as "${values.record}" in ${stored.dir}/metadata.json and MODEL_CARD.md`);
    }
    return outcome.failures.length ? 2 : 0;
  },
};
