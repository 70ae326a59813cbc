import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../common.ts';
import { writeFileAtomic } from '../../core/fs/atomic-write.ts';
import { exportHistory } from '../../core/history/index.ts';
import { historyFile, historyOption, labelFlag, sinceFlag, withHistory } from './history.ts';

const usage = `usage: cxr export --format csv|json [--deidentify] [--out FILE] [--since DATE] [--label NORMAL|PNEUMONIA]
                  [--model ID] [--history FILE]

Exports recorded diagnoses (with image, run and latest override), newest first, to --out (written
atomically) or to standard output. --deidentify drops paths, host and user names, override reasons,
DICOM UIDs and patient fields; hashes, labels, probabilities, models and times stay.
--format may be left out when --out ends in .csv or .json.`;

export const exportCommand: Command = {
  name: 'export',
  summary: 'export the diagnosis history as CSV or JSON (optionally de-identified)',
  usage,
  async run(argv, io) {
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
