import path from 'node:path';
import type { CliIO, Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse } from '../common.ts';
import { writeFileAtomic } from '../../core/fs/atomic-write.ts';
import { exportHistory } from '../../core/history/index.ts';
import { loadStoredModel, resolveModel } from '../../core/models/store.ts';
import { exportOnnx } from '../../core/onnx/export-onnx.ts';
import { historyFile, historyOption, labelFlag, sinceFlag, withHistory } from './history.ts';

const usage = `usage: cxr export --format csv|json [--deidentify] [--out FILE] [--since DATE] [--label NORMAL|PNEUMONIA]
                  [--model ID] [--history FILE]
       cxr export MODEL --onnx [--out model.onnx] [--validate-with DIR] [--images N] [--models-dir DIR] [--backend B]

Exports recorded diagnoses (with image, run and latest override), newest first, to --out (written
atomically) or to standard output. --deidentify drops paths, host and user names, override reasons,
DICOM UIDs and patient fields; hashes, labels, probabilities, models and times stay.
--format may be left out when --out ends in .csv or .json.

With --onnx, exports the model MODEL (an id or a model folder) as standard ONNX (opset 13, input NHWC
as the model takes it, output its sigmoid/softmax head; calibration is not included). The export is
checked before it is written: a handful of images from --validate-with (default ../shared/data/test-dev;
synthetic inputs when that is absent) go through onnxruntime-node and TensorFlow.js, and it is refused
when any output differs by more than 1e-4. Written atomically with its sha256 in FILE.sha256; --out
defaults to model.onnx inside a user model's folder (shipped models need --out).`;

/** `cxr export MODEL --onnx`: model export to ONNX, checked against TensorFlow.js. */
async function exportModelOnnx(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...engineOptions, onnx: { type: 'boolean' }, out: { type: 'string' }, 'validate-with': { type: 'string' }, images: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('name one model to export: cxr export MODEL --onnx [--out model.onnx]');
  if (values.out && !/\.onnx$/i.test(values.out)) throw new UsageError(`--out ${values.out}: use a file name ending in .onnx`);
  const images = numberFlag(values.images, '--images', 1, 256);
  await engineFromFlags(values.backend);
  const stored = await resolveModel(positionals[0], { modelsDir: values['models-dir'] });
  if (!values.out && stored.source === 'shipped') {
    throw new UsageError(`${stored.metadata.id} is a shipped model (${stored.dir} is never written); pass --out FILE.onnx`);
  }
  const out = path.resolve(values.out ?? path.join(stored.dir, 'model.onnx'));
  const model = await loadStoredModel(stored);
  try {
    const r = await exportOnnx(model, stored.metadata, { out, validateWith: values['validate-with'], images: images && Math.round(images) });
    io.err(`checked on ${r.checkedOn}: max |onnxruntime − TensorFlow.js| = ${r.parity.maxAbsDiff.toExponential(2)} (limit 1e-4)`);
    io.err(`exported ${stored.metadata.id} v${stored.metadata.version} to ${r.file} (${(r.bytes / 1024).toFixed(0)} KiB); sha256 ${r.sha256} in ${r.file}.sha256`);
    return 0;
  } finally {
    model.dispose();
  }
}

export const exportCommand: Command = {
  name: 'export',
  usage,
  async run(argv, io) {
    if (argv.includes('--onnx')) return exportModelOnnx(argv, io);
    const { values } = parse(argv, {
      ...historyOption,
      format: { type: 'string' }, deidentify: { type: 'boolean' }, out: { type: 'string' },
      since: { type: 'string' }, label: { type: 'string' }, model: { type: 'string' },
    }, false);
    const fromExt = values.out ? path.extname(values.out).slice(1).toLowerCase() : '';
    const format = (values.format ?? (fromExt === 'csv' || fromExt === 'json' ? fromExt : undefined))?.toLowerCase();
    if (format !== 'csv' && format !== 'json') {
      throw new UsageError(values.format ? `--format must be csv or json (got "${values.format}")` : '--format csv|json is required');
    }
    const file = historyFile(values.history);
    const text = await withHistory(file, true, (db) => exportHistory(db, {
      format, deidentify: Boolean(values.deidentify),
      since: sinceFlag(values.since), label: labelFlag(values.label), modelId: values.model,
    }));
    if (values.out) {
      try {
        await writeFileAtomic(values.out, text);
      } catch (e) {
        throw new Error(`cannot write ${values.out}: ${(e as Error).message}; check the folder exists and is writable`);
      }
      io.err(`exported to ${values.out}${values.deidentify ? ' (de-identified)' : ''}`);
    } else {
      io.out(text.replace(/\r?\n$/, ''));
    }
    return 0;
  },
};
