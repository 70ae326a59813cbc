import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse, shellQuote, sourceFormFlag, storageFlag } from '../common.ts';
import { engineLabel } from '../../core/engine/backend.ts';
import { makeEnsemble } from '../../core/ensemble/make-ensemble.ts';

const usage = `usage: cxr ensemble <model> <model> [<model> …] --id ID [--name NAME] [--out DIR]
                    [--select DATA-FOLDER] [--weights float32|uint8|uint16|mixed] [--source-form SIDE:QUALITY]
                    [--seed 42] [--holdout 0.15] [--max-per-class N] [--backend NAME] [--models-dir DIR]

Combines trained models (ids or folders) into one new model that outputs σ(mean of the members' logits).
Every member sees the same image: the largest member's input, average-pooled in the graph to each smaller
member's size (sizes must divide evenly) and converted to its channel count; members must share resize mode and
scaling. A member's calibration is folded into its logit. With --select, the ensemble and each member are scored
on the selection set of DATA-FOLDER (the seeded --holdout of train/ plus val/, as cxr train makes it; test splits
are never read), and the threshold is chosen there (Youden's J with sensitivity ≥ 0.90); refine it afterwards with
cxr threshold. --weights uint8 (or uint16) stores the kernels as 8-bit (16-bit) integers, as cxr quantize
does, before anything is scored, so the selection scores and threshold are those of the stored model; mixed
stores a kernel in 16 bits only where 8 bits would lose over 0.5 % of it (relative RMS), 8 bits elsewhere.
Members that normalise tone differently (cxr train --tone) are combined on a grey input whose channels each
carry one tone; each member reads its own.
--source-form 512:90 makes the ensemble bring an image whose long side exceeds 512 px to the form its members'
training images had (shrunk to 512 px, JPEG quality 90: how ../shared/data/train was made) before its usual
resize, for everything it classifies (the selection set included). No member
may have been trained on a selection image (checked by content against each member's
training-data.csv): give the --seed, --holdout and --max-per-class the members were trained with. The result is an ordinary model: classify, explain, export --onnx and compare use it as any other.`;

export const ensembleCommand: Command = {
  name: 'ensemble',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions, id: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, select: { type: 'string' }, weights: { type: 'string' },
      'source-form': { type: 'string' }, seed: { type: 'string' }, holdout: { type: 'string' }, 'max-per-class': { type: 'string' },
    });
    if (positionals.length < 2) throw new UsageError('name at least two models to combine');
    if (!values.id) throw new UsageError('--id is required (letters, digits, ".", "_" or "-")');
    const weights = storageFlag(values.weights ?? 'float32', '--weights', ['float32', 'uint8', 'uint16', 'mixed']);
    const engine = await engineFromFlags(values.backend);
    io.err(`engine ${engineLabel(engine)}`);
    const { metadata, dir, failures } = await makeEnsemble({
      members: positionals,
      id: values.id,
      name: values.name ?? values.id,
      outDir: values.out,
      modelsDir: values['models-dir'],
      select: values.select,
      weights,
      sourceForm: sourceFormFlag(values['source-form']),
      seed: numberFlag(values.seed, '--seed', 0, 2 ** 31) ?? 42,
      holdoutFraction: numberFlag(values.holdout, '--holdout', 0.05, 0.5) ?? 0.15,
      maxPerClass: numberFlag(values['max-per-class'], '--max-per-class', 1, 1e9),
      command: `npx cxr ensemble ${argv.map(shellQuote).join(' ')}`,
      log: (l) => io.err(l),
    });
    io.out(`saved model ${metadata.id} v${metadata.version} to ${dir}`);
    io.out(`threshold ${metadata.threshold.toFixed(3)}: ${metadata.thresholdChosenBy}`);
    return failures.length ? 2 : 0;
  },
};
