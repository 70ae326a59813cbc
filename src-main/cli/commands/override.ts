import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../common.ts';
import { addOverride, auditHead, getDiagnosis } from '../../core/history/index.ts';
import { historyFile, historyOption, labelFlag, withHistory } from './history.ts';

const usage = `usage: cxr override <diagnosis-id> --label NORMAL|PNEUMONIA --reason "…" [--history FILE]

Records a clinician's label for a diagnosis (the id is the first column of \`cxr history\`).
The diagnosis itself is never changed; the override is added to the audit chain under your OS user name.`;

export const overrideCommand: Command = {
  name: 'override',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...historyOption, label: { type: 'string' }, reason: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('name exactly one diagnosis id (see `cxr history`)');
    const id = Number(positionals[0]);
    if (!Number.isInteger(id) || id < 1) throw new UsageError(`"${positionals[0]}" is not a diagnosis id; use the ID column of \`cxr history\``);
    if (values.label === undefined) throw new UsageError('--label NORMAL|PNEUMONIA is required');
    const label = labelFlag(values.label)!;
    if (!values.reason?.trim()) throw new UsageError('--reason "…" is required: say why the label is changed');
    const file = historyFile(values.history);
    await withHistory(file, true, (db) => {
      const d = getDiagnosis(db, id);
      if (!d) throw new Error(`diagnosis ${id} does not exist in the history; check the ID column of \`cxr history\``);
      const overrideId = addOverride(db, id, { label, reason: values.reason! });
      io.out(`override ${overrideId}: diagnosis ${id} (model ${d.modelId}@${d.modelVersion} said ${d.label}) is now ${label}`);
      const head = auditHead(db);
      if (head) io.err(`audit head: ${head.seq}:${head.hash}`);
    });
    return 0;
  },
};
