import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command, CliIO } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse, progressBar } from '../common.ts';
import { classifyFiles, labelAt, type ClassifyOutcome } from '../../core/classify/classify-files.ts';
import { writeResults } from '../../core/classify/write-results.ts';
import { describeNotRead, listImageFiles } from '../../core/dataset/list-files.ts';
import { engineLabel } from '../../core/engine/backend.ts';
import {
  auditHead, finishRun, latestDiagnoses, markInterruptedRuns, openHistoryDb, recordDiagnoses, startRun, upsertModel,
  HistorySchemaTooNewError, type DiagnosisInput, type HistoryDb,
} from '../../core/history/index.ts';
import { chooseEngine, parseEngineChoice, type EngineChoice } from '../../core/inference/choose-engine.ts';
import { loadStoredModel, resolveModel } from '../../core/models/store.ts';
import type { ClassifyRecord, ModelMetadata } from '../../../src-shared/types.ts';
import { hashFile, historyFile } from './history.ts';

const usage = `usage: cxr classify <folder|file>… [--model ID] [--out results.csv|results.json] [--threshold T]
                    [--batch-size N] [--engine auto|onnx|tfjs] [--backend auto|wasm|cpu|tensorflow|tensorflow-gpu]
                    [--models-dir DIR] [--history FILE | --no-history] [--commit-every N] [--force] [--allow-unfamiliar]

Classifies every .jpg/.jpeg/.png under the given folders (recursively) and files as NORMAL or PNEUMONIA.
Per image: path, sha256, P(pneumonia), label, threshold, model id, backend, engine, milliseconds.
--engine auto (default) runs the model in onnxruntime-node when it converts to ONNX cleanly (the
conversion is checked against TensorFlow.js and cached in $CXR_HOME/onnx-cache/), else in TensorFlow.js;
onnx insists on onnxruntime, tfjs on TensorFlow.js (--backend chooses its backend).
Every run is recorded in the diagnosis history ($CXR_HOME/history.sqlite, or the per-user data folder;
--history FILE elsewhere, --no-history not at all), committed every --commit-every images (default 25).
Images this model version already classified (same content) are skipped unless --force; --out still lists
them, with their earlier result at this run's threshold and, in the source column, the history run it comes from
(not those classified before the model's familiarity check was fitted: they are classified, and checked, again).
A model with a familiarity check (cxr familiarity; the shipped default has one) refuses an image unlike the
chest X-rays it was trained on as UNFAMILIAR (listed with the failures); --allow-unfamiliar scores it anyway, with a warning.
Ctrl-C stops after the current batch and keeps what is done (exit 130).
Exit 0 when every file was classified, 2 when some failed (they are listed), 1 on a usage error.`;

function appVersion(): string | null {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? null;
  } catch {
    return null;
  }
}

/** Content hashes of `files` (null for unreadable ones), a few at a time. */
async function hashAll(files: string[], parallel = 4): Promise<(string | null)[]> {
  const out: (string | null)[] = new Array(files.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      out[i] = await hashFile(files[i]).catch(() => null);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
  return out;
}

/** The history side of a run: opened before classifying, fed records, finished at the end. */
class RunRecorder {
  readonly db: HistoryDb;
  readonly file: string;
  runId = 0;
  recorded = 0;
  writeError: string | null = null;
  private pending: DiagnosisInput[] = [];

  constructor(file: string, private readonly commitEvery: number) {
    this.file = file;
    try {
      this.db = openHistoryDb(file);
    } catch (e) {
      if (e instanceof HistorySchemaTooNewError) throw e;
      throw new Error(`cannot open the history ${file}: ${(e as Error).message}; fix it, pass --history FILE, or --no-history`);
    }
  }

  /** Marks dead runs interrupted, records the model, and returns the files to classify. */
  async prepare(io: CliIO, md: ModelMetadata, files: string[], force: boolean): Promise<{ todo: string[]; skipped: number; earlier: Map<string, ClassifyRecord> }> {
    const marked = markInterruptedRuns(this.db);
    if (marked.length) io.err(`history: run${marked.length > 1 ? 's' : ''} ${marked.join(', ')} left running by a process that is gone marked interrupted`);
    upsertModel(this.db, md);
    const earlier = new Map<string, ClassifyRecord>();
    if (force || files.length === 0) return { todo: files, skipped: 0, earlier };
    const hashes = await hashAll(files);
    const known = latestDiagnoses(this.db, md.id, md.version, hashes.filter((h): h is string => h !== null));
    const todo: string[] = [];
    files.forEach((file, i) => {
      const past = hashes[i] ? known.get(hashes[i]!) : undefined;
      // A diagnosis made before the model got its familiarity check was never checked: classify the image again.
      if (!past || (md.familiarity && past.createdAt < md.familiarity.chosenAt)) return void todo.push(file);
      earlier.set(file, {
        path: file, sha256: hashes[i]!, probability: past.probability, label: '', threshold: past.threshold, modelId: md.id, modelVersion: md.version,
        backend: (past.backend ?? '') as ClassifyRecord['backend'], engine: past.engine ?? '', milliseconds: past.milliseconds ?? 0,
        source: `history run ${past.runId} (${past.createdAt})`,
      });
    });
    return { todo, skipped: files.length - todo.length, earlier };
  }

  add(r: DiagnosisInput): void {
    let bytes: number | null = null;
    try {
      bytes = statSync(r.path).size;
    } catch { /* gone since it was read: the size stays unknown */ }
    this.pending.push({ ...r, path: path.resolve(r.path), bytes });
    if (this.pending.length >= this.commitEvery) this.flush();
  }

  /** Commits the buffered diagnoses in one transaction; on failure remembers why and drops them. */
  flush(): void {
    if (!this.pending.length || this.writeError) return;
    const chunk = this.pending;
    this.pending = [];
    try {
      recordDiagnoses(this.db, this.runId, chunk);
      this.recorded += chunk.length;
    } catch (e) {
      this.writeError = `could not record diagnoses in ${this.file}: ${(e as Error).message}`;
    }
  }

  finish(io: CliIO, counts: { total: number; failed: number; skipped: number }, interrupted: boolean): void {
    this.flush();
    try {
      finishRun(this.db, this.runId, { ...counts, classified: this.recorded }, interrupted || this.writeError ? 'interrupted' : 'completed');
      io.err(`history: run ${this.runId} recorded ${this.recorded} diagnos${this.recorded === 1 ? 'is' : 'es'} in ${this.file}${interrupted ? ' (interrupted)' : ''}`);
      const head = auditHead(this.db);
      if (head) io.err(`audit head: ${head.seq}:${head.hash} (keep it; \`cxr audit verify --expect-head ${head.seq}:${head.hash}\` checks nothing was removed)`);
    } catch (e) {
      io.err(`error: could not finish run ${this.runId} in ${this.file}: ${(e as Error).message}; the next \`cxr classify\` marks it interrupted`);
    }
  }
}

export const classifyCommand: Command = {
  name: 'classify',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions,
      model: { type: 'string' },
      out: { type: 'string' },
      threshold: { type: 'string' },
      'batch-size': { type: 'string' },
      history: { type: 'string' },
      'no-history': { type: 'boolean' },
      'commit-every': { type: 'string' },
      force: { type: 'boolean' },
      engine: { type: 'string' },
      'allow-unfamiliar': { type: 'boolean' },
    });
    if (positionals.length === 0) throw new UsageError('name at least one folder or image file');
    const threshold = numberFlag(values.threshold, '--threshold', 0, 1);
    const batchSize = numberFlag(values['batch-size'], '--batch-size', 1, 256);
    const commitEvery = numberFlag(values['commit-every'], '--commit-every', 1, 100000) ?? 25;
    if (!Number.isInteger(commitEvery)) throw new UsageError(`--commit-every must be a whole number (got "${values['commit-every']}")`);
    if (values.out && !/\.(csv|json)$/i.test(values.out)) throw new UsageError(`--out ${values.out}: use a file name ending in .csv or .json`);
    if (values['no-history'] && values.history) throw new UsageError('--history and --no-history contradict each other; use one');
    let engineChoice: EngineChoice;
    try {
      engineChoice = parseEngineChoice(values.engine);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const recorder = values['no-history'] ? null : new RunRecorder(historyFile(values.history), commitEvery);
    const controller = new AbortController();
    let signalCode = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signalCode = sig === 'SIGINT' ? 130 : 143;
      io.err('\ninterrupted: stopping after the current batch and keeping what is done …');
      controller.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const engine = await engineFromFlags(values.backend);
      const stored = await resolveModel(values.model, { modelsDir: values['models-dir'] });
      const model = await loadStoredModel(stored);
      const chosen = await chooseEngine(model, stored.metadata, { engine: engineChoice });
      const predictor = chosen.predictor;
      const { files, failures: listFailures, notRead } = await listImageFiles(positionals);
      const passedOver = describeNotRead(notRead);
      for (const f of listFailures) io.err(`warning: ${f.reason}`);
      const md = stored.metadata;
      const { todo, skipped, earlier } = recorder ? await recorder.prepare(io, md, files, Boolean(values.force)) : { todo: files, skipped: 0, earlier: new Map<string, ClassifyRecord>() };
      const t = threshold ?? md.threshold;
      // Earlier results are listed at this run's threshold (the probability is the model version's own).
      for (const r of earlier.values()) Object.assign(r, { threshold: t, label: labelAt(md, r.probability, t) });
      io.err(`model ${md.id} v${md.version} (${stored.source}), threshold ${t.toFixed(3)}; engine ${chosen.kind === 'onnx' ? `${predictor.engine} (${chosen.reason}; loaded and checked by engine ${engineLabel(engine)})` : `${engineLabel(engine)} (${chosen.reason})`}; ${files.length} image file(s)${skipped ? `, ${skipped} already classified by this model (skipped)` : ''}`);
      if (controller.signal.aborted) {
        io.err('interrupted before classifying; nothing was recorded');
        return signalCode;
      }
      if (recorder) {
        recorder.runId = startRun(recorder.db, {
          modelId: md.id, modelVersion: md.version, threshold: t, backend: engine.backend, engine: predictor.engine,
          folder: positionals.length === 1 ? path.resolve(positionals[0]) : null,
          inputs: positionals.map((p) => path.resolve(p)), total: files.length, appVersion: appVersion(),
        });
      }
      const bar = progressBar(io, 'classifying');
      let failed = 0;
      let outcome: ClassifyOutcome | undefined;
      try {
        outcome = await classifyFiles({
          files: todo, metadata: md, predictor, engine, threshold, batchSize, signal: controller.signal, allowUnfamiliar: values['allow-unfamiliar'],
          onRecord: (r) => {
            if (!values.out) io.out(`${r.label.padEnd(9)} ${r.probability.toFixed(4)}  ${r.path}`);
            if (r.unfamiliar) io.err(`${io.isTTY ? '\n' : ''}warning: ${path.basename(r.path)}: scored although it is unlike the images the model was trained on (${r.unfamiliar}; --allow-unfamiliar)`);
            if (recorder) {
              recorder.add(r);
              if (recorder.writeError) controller.abort();
            }
          },
          onFailure: (f) => {
            failed++;
            io.err(`${io.isTTY ? '\n' : ''}error: ${f.reason}`);
          },
          onProgress: (d, total) => bar.update(d, total),
        });
      } finally {
        predictor.dispose();
        recorder?.finish(io, { total: files.length, failed, skipped }, !outcome || outcome.cancelled);
      }
      const failures = [...listFailures, ...outcome.failures];
      if (values.out) {
        const fresh = new Map(outcome.records.map((r) => [r.path, { ...r, source: 'this run' }]));
        const all = files.map((f) => fresh.get(f) ?? earlier.get(f)).filter((r): r is ClassifyRecord => r !== undefined);
        await writeResults(values.out, all, failures, engine);
      }
      const byLabel = new Map<string, number>();
      for (const r of outcome.records) byLabel.set(r.label, (byLabel.get(r.label) ?? 0) + 1);
      io.err('');
      io.err(`summary: ${outcome.records.length} classified, ${failures.length} failed, in ${outcome.seconds.toFixed(1)} s (${(outcome.records.length / Math.max(outcome.seconds, 1e-9)).toFixed(1)} images/s)`);
      if (recorder) io.err(`  skipped: ${skipped} already classified by ${md.id} v${md.version}${skipped ? ` (their earlier results are listed${values.out ? ` in ${values.out}` : ''}; --force re-classifies them)` : ''}`);
      for (const [label, n] of [...byLabel].sort()) io.err(`  ${label}: ${n}`);
      for (const f of failures) io.err(`  failed: ${f.path}: ${f.code}: ${f.reason}`);
      if (passedOver) io.err(`  not read: ${passedOver}`);
      if (values.out) io.err(`results written to ${values.out}${outcome.cancelled ? ' (partial: the run was stopped)' : ''}`);
      io.err('Research software, not for diagnostic use: a qualified reader must review every study.');
      if (recorder?.writeError) {
        io.err(`error: ${recorder.writeError}; the run was stopped. Re-run to go on (recorded images are skipped), or pass --no-history`);
        return 1;
      }
      if (outcome.cancelled) return signalCode || 130;
      if (files.length === 0 && failures.length === 0) {
        io.err('nothing to classify: no .jpg, .jpeg or .png files found');
        return 2;
      }
      return failures.length ? 2 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      recorder?.db.close();
    }
  },
};
