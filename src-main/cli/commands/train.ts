import path from 'node:path';
import type { Tone } from '../../../src-shared/types.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { AUGMENT_USAGE, augmentFromFlags, augmentOptions, classWeightsFlag } from '../augment-flags.ts';
import { engineFromFlags, engineOptions, heldFixedNote, numberFlag, parse, progressBar, shellQuote, sourceFormFlag, workersFlag } from '../common.ts';
import { ARCHITECTURES, type ArchitectureName } from '../../core/architectures/cnn.ts';
import { engineLabel } from '../../core/engine/backend.ts';
import { trainAndSave, type TrainRequest } from '../../core/training/train-model.ts';
import { TrainingCancelled } from '../../core/training/fit.ts';
import { checkpointDir } from '../../core/training/checkpoint.ts';
import { userModelsDir } from '../../core/models/paths.ts';
import { BASE_CHOICES, VGG19_NEEDS_WEIGHTS } from '../../core/transfer/backbone.ts';

const usage = `usage: cxr train <data-folder|data.npz> --id ID [--name NAME] [--out DIR] [--architecture ${ARCHITECTURES.join('|')}]
                 [--filters 32,64,128] [--dropout 0.3] [--l2 1e-4] [--dense-units 64]
                 [--input-size 128] [--resize crop|stretch|letterbox] [--source-form SIDE:QUALITY] [--tone equalize|median] [--epochs 30] [--batch-size 32] [--lr 0.001] [--seed 42]
                 [--holdout 0.15] [--patience 8] [--class-weights auto|none|w0,w1] [--balance-aspect] [--no-augment]
                 ${AUGMENT_USAGE}
                 [--max-per-class N] [--resume] [--workers N|auto] [--backend NAME] [--models-dir DIR] [--exclude-near DIR …] [--exclude-near-selection DATA-FOLDER …]
                 transfer learning: --base ${BASE_CHOICES} [--cut-at LAYER] [--base-weights FILE] [--freeze-base]
                 [--then-unfreeze-from LAYER | --unfreeze-last-blocks N] [--fine-tune-lr 1e-5] [--fine-tune-epochs 10] [--feature-views 4]

Trains a CNN from scratch on <data-folder> laid out train/{NORMAL,PNEUMONIA} (+ optional val/) or {NORMAL,PNEUMONIA}/.
The epoch and the decision threshold are chosen on a seeded, stratified hold-out of train plus val/;
test/ and test-dev/ are never used. A MedMNIST-style .npz (e.g. PneumoniaMNIST: train_images/train_labels,
val_images/val_labels, labels 0 NORMAL / 1 PNEUMONIA) trains at its own image size on train_* and selects on val_*
(test_* is never read); --exclude-near DIR (repeatable) leaves out, for every image under DIR, the nearest array image,
so images you will evaluate or select on elsewhere (e.g. ../shared/data) cannot be in its training data;
--exclude-near-selection DATA-FOLDER does the same for only the selection set of DATA-FOLDER (its seeded --holdout of
train/ plus val/, as cxr train and cxr ensemble --select make it with the same --seed), so the array images of
that folder's training part stay in. The model is saved to --out or to the user's model folder under --id.
After every epoch a checkpoint is written to <model folder>.checkpoint/; after a crash or Ctrl-C, the same
command with --resume continues to the same epoch count (optimizer state included). Transfer runs checkpoint the
cached features, the end of phase 1 and every fine-tuning epoch, and resume from the latest of these. Augmentation: rotation and
shear in degrees, shift as a fraction of the size, zoom/contrast as fractions, brightness and noise (Gaussian sd)
in scaled pixel units; horizontal flip is off unless --hflip (the heart is on the patient's left).
--balance-aspect reweights the training images so that their aspect ratio says nothing about the label: in each
quantile bin of width/height (about 25 images a bin, at most 8 bins) both classes get the same total weight (capped at
10× the mean; an image in a bin of one class only gets 0). In ../shared/data the aspect ratio alone separates the classes (AUC 0.88, cxr dataset) and a
centre crop does not fully hide it; --class-weights auto then adds nothing (the weights balance the classes already).
The epoch kept is then the one with the best selection AUC with the aspect ratio held fixed (as cxr evaluate gives
it), when at least 20 NORMAL–PNEUMONIA pairs of the selection set share an aspect bin; else the plain AUC.
--source-form 512:90 records that the training images were made by shrinking the long side to 512 px and saving as
JPEG quality 90 (as ../shared/data/train was): every larger image the model later sees (val/ here, full-resolution
originals in use) is brought to that form before its usual resize.
--tone normalises each image's grey levels after resizing, in training and wherever the model is used (recorded in
its input spec), so that exposure, which differs between machines and sites, reaches the model less: "equalize"
(histogram equalization: exposure and global contrast gone) or "median" (a gamma curve bringing the median grey
level to 128: exposure gone, contrast mostly kept). Also for .npz data (each array image).
Transfer learning (--base): a pretrained conv base (mobilenetv2 / inceptionv3: nsfwjs's MobileNetV2 / InceptionV3,
shipped, /255, 3 channels; vgg19: Keras ImageNet weights from --base-weights vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, never
downloaded; or a stored model cut at --cut-at LAYER) plus a new head GAP → Dropout → Dense(sigmoid). Phase 1
(--epochs, --lr) trains only the head when --freeze-base; phase 2 (--fine-tune-epochs, --fine-tune-lr) unfreezes
the base from --then-unfreeze-from LAYER or its last --unfreeze-last-blocks N blocks. BatchNormalization layers of
the base always use their moving statistics. With --freeze-base, phase 1 runs the frozen base once per cached
view of each image (the plain image + --feature-views minus 1 augmented views; 0 = run it on every batch, slow)
and trains the head on the cached features. --input-size defaults to the base's own size (224; inceptionv3 299; 32–512); grayscale is replicated to RGB.
--workers N|auto (default auto = every core, at most 4): data-parallel training on the wasm/cpu backends, the main thread
plus N-1 worker threads each computing the gradient of a share of every batch (ignored on the native tensorflow
backends; fewer when free memory is short, said in the log). Without dropout/BatchNorm it equals 1 worker up to
rounding; with them, equivalent in distribution (per-share dropout masks and BatchNorm batch statistics). With --base
the frozen base extracts features on every thread and fine-tuning splits batches too (base BatchNorm in inference mode).`;

function resizeFlag(v: string | undefined): 'crop' | 'stretch' | 'letterbox' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'crop' && v !== 'stretch' && v !== 'letterbox') throw new UsageError('--resize must be crop, stretch or letterbox');
  return v;
}

type Flags = Record<string, string | string[] | boolean | undefined>;

function transferFromFlags(values: Flags): NonNullable<TrainRequest['transfer']> | undefined {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const base = str('base');
  if (!base) {
    const stray = ['cut-at', 'base-weights', 'freeze-base', 'then-unfreeze-from', 'unfreeze-last-blocks', 'fine-tune-lr', 'fine-tune-epochs', 'feature-views'].find((k) => values[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --base ${BASE_CHOICES}`);
    return undefined;
  }
  if (values.architecture !== undefined) throw new UsageError('--architecture and --base exclude each other');
  if (base === 'vgg19' && !str('base-weights')) throw new UsageError(VGG19_NEEDS_WEIGHTS);
  if (str('then-unfreeze-from') && str('unfreeze-last-blocks')) throw new UsageError('give --then-unfreeze-from or --unfreeze-last-blocks, not both');
  return {
    base, cutAt: str('cut-at'), baseWeights: str('base-weights') ? path.resolve(str('base-weights')!) : undefined, inputSize: numberFlag(str('input-size'), '--input-size', 32, 512),
    freezeBase: !!values['freeze-base'], thenUnfreezeFrom: str('then-unfreeze-from'), unfreezeLastBlocks: numberFlag(str('unfreeze-last-blocks'), '--unfreeze-last-blocks', 1, 100),
    fineTuneLr: numberFlag(str('fine-tune-lr'), '--fine-tune-lr', 1e-8, 1) ?? 1e-5, fineTuneEpochs: numberFlag(str('fine-tune-epochs'), '--fine-tune-epochs', 1, 500) ?? 10,
    featureViews: numberFlag(str('feature-views'), '--feature-views', 0, 32) ?? 4,
  };
}

function architectureFromFlags(values: Flags): TrainRequest['architectureOptions'] {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  if (values.base !== undefined) {
    const stray = ['filters', 'dropout', 'l2', 'dense-units'].find((k) => values[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} applies to CNNs trained from scratch, not with --base`);
    return undefined;
  }
  const filters = str('filters')?.split(',').map((f) => numberFlag(f.trim(), '--filters', 1, 1024)!);
  const out = { filters, dropout: numberFlag(str('dropout'), '--dropout', 0, 0.95), l2: numberFlag(str('l2'), '--l2', 0, 1), denseUnits: numberFlag(str('dense-units'), '--dense-units', 1, 4096) };
  const given = Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
  return Object.keys(given).length ? given : undefined;
}

function toneFlag(value: string | undefined): Tone | undefined {
  if (value === undefined) return undefined;
  if (value !== 'equalize' && value !== 'median') throw new UsageError(`--tone ${value}: use equalize or median`);
  return value;
}

export const trainCommand: Command = {
  name: 'train',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions,
      id: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, architecture: { type: 'string' },
      filters: { type: 'string' }, dropout: { type: 'string' }, l2: { type: 'string' }, 'dense-units': { type: 'string' },
      'input-size': { type: 'string' }, resize: { type: 'string' }, 'source-form': { type: 'string' }, tone: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
      seed: { type: 'string' }, holdout: { type: 'string' }, patience: { type: 'string' }, 'no-augment': { type: 'boolean' },
      'max-per-class': { type: 'string' }, 'exclude-near': { type: 'string', multiple: true }, 'exclude-near-selection': { type: 'string', multiple: true }, 'class-weights': { type: 'string' }, 'balance-aspect': { type: 'boolean' }, resume: { type: 'boolean' }, workers: { type: 'string' }, ...augmentOptions,
      base: { type: 'string' }, 'cut-at': { type: 'string' }, 'base-weights': { type: 'string' }, 'freeze-base': { type: 'boolean' },
      'then-unfreeze-from': { type: 'string' }, 'unfreeze-last-blocks': { type: 'string' }, 'fine-tune-lr': { type: 'string' }, 'fine-tune-epochs': { type: 'string' }, 'feature-views': { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('name exactly one data folder or .npz file');
    if (!values.id) throw new UsageError('--id is required (letters, digits, ".", "_" or "-")');
    const arch = (values.architecture ?? 'seed-cnn') as ArchitectureName;
    if (!ARCHITECTURES.includes(arch)) throw new UsageError(`--architecture must be one of ${ARCHITECTURES.join(', ')}`);
    const transfer = transferFromFlags(values);
    const augmentRanges = augmentFromFlags(values);
    const classWeights = classWeightsFlag(values['class-weights']);
    const workers = workersFlag(values.workers);
    const engine = await engineFromFlags(values.backend);
    io.err(`engine ${engineLabel(engine)}`);
    const controller = new AbortController();
    const onSigint = () => {
      io.err('\ncancelling after the current batch …');
      controller.abort();
    };
    process.once('SIGINT', onSigint);
    const bar = progressBar(io, 'training');
    try {
      const { metadata, dir, failures } = await trainAndSave({
        dataRoot: path.resolve(positionals[0]),
        id: values.id,
        name: values.name ?? values.id,
        architecture: arch,
        architectureOptions: architectureFromFlags(values),
        inputSize: transfer ? (numberFlag(values['input-size'], '--input-size', 32, 512) ?? 224) : numberFlag(values['input-size'], '--input-size', 28, 256),
        excludeNear: (values['exclude-near'] as string[] | undefined)?.map((d) => path.resolve(d)),
        excludeNearSelection: (values['exclude-near-selection'] as string[] | undefined)?.map((d) => path.resolve(d)),
        transfer,
        resize: resizeFlag(values.resize),
        sourceForm: sourceFormFlag(values['source-form']),
        tone: toneFlag(values.tone),
        epochs: numberFlag(values.epochs, '--epochs', 1, 500) ?? 30,
        batchSize: numberFlag(values['batch-size'], '--batch-size', 1, 512) ?? 32,
        learningRate: numberFlag(values.lr, '--lr', 1e-6, 1) ?? 1e-3,
        seed: numberFlag(values.seed, '--seed', 0, 2 ** 31) ?? 42,
        holdoutFraction: numberFlag(values.holdout, '--holdout', 0.05, 0.5) ?? 0.15,
        patience: numberFlag(values.patience, '--patience', 1, 100) ?? 8,
        augment: !values['no-augment'],
        augmentRanges,
        classWeights,
        balanceAspect: !!values['balance-aspect'],
        resume: !!values.resume,
        workers,
        maxPerClass: numberFlag(values['max-per-class'], '--max-per-class', 2, 1e6),
        outDir: values.out,
        modelsDir: values['models-dir'],
        command: `npx cxr train ${argv.filter((a) => a !== '--resume').map(shellQuote).join(' ')}`,
        signal: controller.signal,
        onLog: (l) => io.err(l),
        onProgress: (p) => {
          if (p.kind === 'batch') bar.update(p.batch, p.batches, `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} ${p.imagesPerSecond.toFixed(1)} img/s ETA ${Math.round(p.etaSeconds / 60)} min`);
          else io.err(`epoch ${p.epoch}: loss ${p.record.loss.toFixed(4)} selection loss ${p.record.valLoss.toFixed(4)} AUC ${p.record.valAuc.toFixed(4)}${heldFixedNote(p.record)} lr ${p.learningRate}${p.improved ? ' (best so far)' : ''} ${p.record.seconds.toFixed(0)} s`);
        },
      });
      io.out(`saved model ${metadata.id} v${metadata.version} to ${dir}`);
      io.out(`threshold ${metadata.threshold.toFixed(3)}: ${metadata.thresholdChosenBy}`);
      return failures.length ? 2 : 0;
    } catch (e) {
      if (e instanceof TrainingCancelled) {
        const ck = checkpointDir(values.out ? path.resolve(values.out) : path.join(userModelsDir(values['models-dir']), values.id));
        io.err(`training cancelled; no model was saved. ${transfer ? 'What was finished (cached features, phase 1, the last fine-tuning epoch)' : 'The last finished epoch'} is checkpointed in ${ck}: run the same command with --resume to continue`);
        return 130;
      }
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
