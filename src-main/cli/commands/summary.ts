import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, parse } from '../common.ts';
import '../../core/interchange/custom-layers.ts';
import { renderSummary, summarizeModel } from '../../core/interchange/model-summary.ts';
import { resolveModel } from '../../core/models/store.ts';
import { loadLayersModelFromDir } from '../../core/models/tfjs-files.ts';

export const summaryCommand: Command = {
  name: 'summary',
  usage: `usage: cxr summary [MODEL] [--json] [--models-dir DIR] [--backend NAME]

MODEL is a model id (default "default") or a model folder. --json prints the ModelSummary object.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...engineOptions, json: { type: 'boolean' } });
    if (positionals.length > 1) throw new UsageError('name at most one model');
    await engineFromFlags(values.backend);
    const stored = await resolveModel(positionals[0], { modelsDir: values['models-dir'] });
    const { model } = await loadLayersModelFromDir(stored.dir);
    try {
      const s = await summarizeModel(stored, model);
      if (values.json) io.out(JSON.stringify(s, null, 2));
      else for (const line of renderSummary(s)) io.out(line);
      return s.weightsVerified ? 0 : 2;
    } finally {
      model.dispose();
    }
  },
};
