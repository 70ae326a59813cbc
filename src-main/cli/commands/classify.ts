import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse, progressBar } from '../common.ts';
import { classifyFiles } from '../../core/classify/classify-files.ts';
import { writeResults } from '../../core/classify/write-results.ts';
import { listImageFiles } from '../../core/dataset/list-files.ts';
import { engineLabel } from '../../core/engine/backend.ts';
import { tfjsPredictor } from '../../core/inference/predictor.ts';
import { loadStoredModel, resolveModel } from '../../core/models/store.ts';

const usage = `usage: cxr classify <folder|file>… [--model ID] [--out results.csv|results.json] [--threshold T]
                    [--batch-size N] [--backend auto|wasm|cpu|tensorflow|tensorflow-gpu] [--models-dir DIR]

Classifies every .jpg/.jpeg/.png under the given folders (recursively) and files as NORMAL or PNEUMONIA.
Per image: path, sha256, P(pneumonia), label, threshold, model id, backend, milliseconds.
Exit 0 when every file was classified, 2 when some failed (they are listed), 1 on a usage error.`;

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'classify a folder or files of chest X-rays (NORMAL / PNEUMONIA)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions,
      model: { type: 'string' },
      out: { type: 'string' },
      threshold: { type: 'string' },
      'batch-size': { type: 'string' },
    });
    if (positionals.length === 0) throw new UsageError('name at least one folder or image file');
    const threshold = numberFlag(values.threshold, '--threshold', 0, 1);
    const batchSize = numberFlag(values['batch-size'], '--batch-size', 1, 256);
    if (values.out && !/\.(csv|json)$/i.test(values.out)) throw new UsageError(`--out ${values.out}: use a file name ending in .csv or .json`);
    const engine = await engineFromFlags(values.backend);
    const stored = await resolveModel(values.model, { modelsDir: values['models-dir'] });
    const model = await loadStoredModel(stored);
    const predictor = tfjsPredictor(model, stored.metadata);
    const { files, failures: listFailures } = await listImageFiles(positionals);
    for (const f of listFailures) io.err(`warning: ${f.path}: ${f.reason}`);
    const md = stored.metadata;
    io.err(`model ${md.id} v${md.version} (${stored.source}), threshold ${(threshold ?? md.threshold).toFixed(3)}; engine ${engineLabel(engine)}; ${files.length} image file(s)`);
    const bar = progressBar(io, 'classifying');
    const outcome = await classifyFiles({
      files, metadata: md, predictor, engine, threshold, batchSize,
      onRecord: (r) => { if (!values.out) io.out(`${r.label.padEnd(9)} ${r.probability.toFixed(4)}  ${r.path}`); },
      onFailure: (f) => io.err(`${io.isTTY ? '\n' : ''}error: ${f.reason}`),
      onProgress: (d, t) => bar.update(d, t),
    });
    predictor.dispose();
    const failures = [...listFailures, ...outcome.failures];
    if (values.out) await writeResults(values.out, outcome.records, failures, engine);
    const byLabel = new Map<string, number>();
    for (const r of outcome.records) byLabel.set(r.label, (byLabel.get(r.label) ?? 0) + 1);
    io.err('');
    io.err(`summary: ${outcome.records.length} classified, ${failures.length} failed, in ${outcome.seconds.toFixed(1)} s (${(outcome.records.length / Math.max(outcome.seconds, 1e-9)).toFixed(1)} images/s)`);
    for (const [label, n] of [...byLabel].sort()) io.err(`  ${label}: ${n}`);
    for (const f of failures) io.err(`  failed: ${f.path}: ${f.code}: ${f.reason}`);
    if (values.out) io.err(`results written to ${values.out}`);
    io.err('Research software, not for diagnostic use: a qualified reader must review every study.');
    if (outcome.records.length === 0 && failures.length === 0) {
      io.err('nothing to classify: no .jpg, .jpeg or .png files found');
      return 2;
    }
    return failures.length ? 2 : 0;
  },
};
