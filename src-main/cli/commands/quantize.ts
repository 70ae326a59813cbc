import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse, shellQuote, storageFlag } from '../common.ts';
import { engineLabel } from '../../core/engine/backend.ts';
import { quantizeModel } from '../../core/models/quantize-model.ts';

const usage = `usage: cxr quantize <model> --id ID [--to uint8|uint16|mixed] [--name NAME] [--out DIR]
                    [--select DATA-FOLDER] [--seed 42] [--holdout 0.15] [--max-per-class N] [--backend NAME] [--models-dir DIR]

Stores a copy of a model (id or folder) under a new id with its kernels as 8-bit (--to uint8, the default: about
4× smaller) or 16-bit integers (uint16: 2×), each kernel with its own affine map, in TensorFlow.js's own format;
biases and BatchNorm stay float32. --to mixed stores a kernel in 16 bits only where 8 bits would lose over 0.5 %
of it (relative RMS error; fine-tuned layers can need it), in 8 bits elsewhere. The original is left as it is. With --select, the float and the stored model
are scored side by side on the selection set of DATA-FOLDER (the seeded --holdout of train/ plus val/, as cxr train
makes it; test splits are never read): AUC, Brier score, the largest change of a probability and how many labels
changed at the model's threshold; those go into the new model's card. Without --select the original's metrics are
not copied: measure the copy with cxr evaluate. Threshold, calibration and training record are kept.`;

export const quantizeCommand: Command = {
  name: 'quantize',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions, id: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, to: { type: 'string' }, select: { type: 'string' },
      seed: { type: 'string' }, holdout: { type: 'string' }, 'max-per-class': { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('name one model to quantise');
    if (!values.id) throw new UsageError('--id is required (letters, digits, ".", "_" or "-")');
    const to = storageFlag(values.to ?? 'uint8', '--to', ['uint8', 'uint16', 'mixed']);
    const engine = await engineFromFlags(values.backend);
    io.err(`engine ${engineLabel(engine)}`);
    const { metadata, dir, failures } = await quantizeModel({
      model: positionals[0],
      id: values.id,
      name: values.name,
      storage: to,
      outDir: values.out,
      modelsDir: values['models-dir'],
      select: values.select,
      seed: numberFlag(values.seed, '--seed', 0, 2 ** 31) ?? 42,
      holdoutFraction: numberFlag(values.holdout, '--holdout', 0.05, 0.5) ?? 0.15,
      maxPerClass: numberFlag(values['max-per-class'], '--max-per-class', 1, 1e9),
      command: `npx cxr quantize ${argv.map(shellQuote).join(' ')}`,
      log: (l) => io.err(l),
    });
    io.out(`saved model ${metadata.id} v${metadata.version} to ${dir} (weights ${((metadata.weightStorage?.weightBytes ?? 0) / 1e6).toFixed(1)} MB, ${to})`);
    return failures.length ? 2 : 0;
  },
};
