import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { AUGMENT_USAGE, augmentFromFlags, augmentOptions } from '../augment-flags.ts';
import { engineFromFlags, engineOptions, heldFixedNote, numberFlag, parse, progressBar, workersFlag } from '../common.ts';
import { engineLabel } from '../../core/engine/backend.ts';
import { retrainModel } from '../../core/release/retrain.ts';
import { TrainingCancelled } from '../../core/training/fit.ts';
import { historyFile } from './history.ts';

const usage = `usage: cxr retrain --from MODEL --add <folder of new labelled images> [--epochs 5] [--lr 0.0001] [--batch-size 32]
                   [--margin 0.01] [--seed 42] [--holdout 0.15] [--max-per-class N] [--no-augment] ${AUGMENT_USAGE}
                   [--old-data FOLDER] [--balance-aspect] [--workers N|auto] [--history FILE] [--backend NAME] [--models-dir DIR]

Fine-tunes MODEL from its weights on its old training data (--old-data, else metadata.training.dataRoot when
that folder exists) plus the new images, refusing any image of the locked test set (cxr lock-test). Old and new versions are scored
on the locked set; the new version is saved under <models>/<id>.versions/<version>/ and promoted to active
(<models>/<id>/, recorded in the history) only if its AUC and its sensitivity at its operating point are not
worse than the old model's by more than --margin; otherwise it is kept as a candidate with the reason.
BatchNormalization layers keep their moving statistics while fine-tuning. --workers and --balance-aspect (reweight
the old + new images so that their aspect ratio says nothing about the label) as for cxr train.`;

export const retrainCommand: Command = {
  name: 'retrain',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions, from: { type: 'string' }, add: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' },
      margin: { type: 'string' }, seed: { type: 'string' }, holdout: { type: 'string' }, 'max-per-class': { type: 'string' }, 'no-augment': { type: 'boolean' },
      history: { type: 'string' }, workers: { type: 'string' }, 'old-data': { type: 'string' }, 'balance-aspect': { type: 'boolean' }, ...augmentOptions,
    }, false);
    if (positionals.length) throw new UsageError('retrain takes no positional arguments; use --from MODEL --add FOLDER');
    if (!values.from) throw new UsageError('--from MODEL is required');
    if (!values.add) throw new UsageError('--add FOLDER (new labelled images in NORMAL/ and PNEUMONIA/) is required');
    const augment = values['no-augment'] ? null : augmentFromFlags(values);
    const workers = workersFlag(values.workers);
    const engine = await engineFromFlags(values.backend);
    io.err(`engine ${engineLabel(engine)}`);
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    const bar = progressBar(io, 'fine-tuning');
    try {
      const r = await retrainModel({
        from: values.from, addFolder: values.add, augment,
        epochs: numberFlag(values.epochs, '--epochs', 1, 500) ?? 5,
        learningRate: numberFlag(values.lr, '--lr', 1e-7, 1) ?? 1e-4,
        batchSize: numberFlag(values['batch-size'], '--batch-size', 1, 512) ?? 32,
        margin: numberFlag(values.margin, '--margin', 0, 0.5) ?? 0.01,
        seed: numberFlag(values.seed, '--seed', 0, 2 ** 31) ?? 42,
        holdoutFraction: numberFlag(values.holdout, '--holdout', 0.05, 0.5) ?? 0.15,
        maxPerClass: numberFlag(values['max-per-class'], '--max-per-class', 2, 1e6),
        modelsDir: values['models-dir'], historyFile: historyFile(values.history), workers, oldData: values['old-data'], balanceAspect: !!values['balance-aspect'],
        command: `npx cxr retrain ${argv.join(' ')}`,
        signal: controller.signal,
        onLog: (l) => io.err(l),
        onProgress: (p) => {
          if (p.kind === 'batch') bar.update(p.batch, p.batches, `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`);
          else io.err(`epoch ${p.epoch}: loss ${p.record.loss.toFixed(4)} selection AUC ${p.record.valAuc.toFixed(4)}${heldFixedNote(p.record)}`);
        },
      });
      io.out(`${r.decision.promote ? 'promoted' : 'candidate'} ${r.metadata.id} v${r.metadata.version}: ${r.decision.reason}`);
      io.out(`saved to ${r.dir}${r.activeDir ? `; active copy in ${r.activeDir}` : ''}`);
      return 0;
    } catch (e) {
      if (e instanceof TrainingCancelled) {
        io.err('retraining cancelled; nothing was saved');
        return 130;
      }
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
