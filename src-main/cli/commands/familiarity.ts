import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse, progressBar, shellQuote } from '../common.ts';
import { fitFamiliarity, vectorLayers } from '../../core/familiarity/fit-familiarity.ts';
import { writeFileAtomic } from '../../core/fs/atomic-write.ts';
import { renderModelCard } from '../../core/models/model-card.ts';
import { loadStoredModel, resolveModel, updateMetadata } from '../../core/models/store.ts';
import { folderSplit } from '../../core/training/training-data.ts';

const usage = `usage: cxr familiarity <data-folder> --model ID --layer NAME [--margin 1.1] [--seed 42] [--holdout 0.15]
                       [--max-per-class N] [--engine onnx|tfjs] [--dry-run] [--json] [--backend NAME] [--models-dir DIR]
       cxr familiarity --model ID --off

Gives a model a familiarity check: from then on, cxr classify (and the app) refuses an image unlike the ones the
model was trained on as UNFAMILIAR instead of scoring it (cxr evaluate scores such images and warns); a model scores
anything, a wallpaper or a diagram too, and confidently. DATA-FOLDER is split as cxr train splits it (a seeded,
stratified hold-out of train/ plus val/ is the selection part; test splits are never read); --seed, --holdout and
--max-per-class default to those the model was trained with (its metadata), else 42, 0.15 and no cap. The check keeps the
mean of layer NAME's output (one vector per image, e.g. a global-average-pool layer; without --layer the candidates
are listed) over the fit part, and refuses an image whose cosine distance from that mean exceeds --margin × the
largest distance in the selection part. --off removes the check. Stored in metadata.json and MODEL_CARD.md.`;

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * (xs.length - 1)))];

export const familiarityCommand: Command = {
  name: 'familiarity',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions, model: { type: 'string' }, layer: { type: 'string' }, margin: { type: 'string' }, seed: { type: 'string' },
      holdout: { type: 'string' }, 'max-per-class': { type: 'string' }, engine: { type: 'string' }, off: { type: 'boolean' },
      'dry-run': { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (!values.model) throw new UsageError('name the model with --model ID (or a model folder)');
    const engine = values.engine ?? 'onnx';
    if (engine !== 'onnx' && engine !== 'tfjs') throw new UsageError('--engine must be onnx or tfjs');
    const margin = numberFlag(values.margin, '--margin', 1, 10) ?? 1.1;
    const stored = await resolveModel(values.model, { modelsDir: values['models-dir'] });
    // The split defaults to the one the model was trained on, so that the fit part is what it was fitted on.
    const trained = stored.metadata.training;
    const hp = trained?.hyperparameters ?? {};
    const seed = numberFlag(values.seed, '--seed', 0, 2 ** 31) ?? trained?.seed ?? 42;
    const holdoutFraction = numberFlag(values.holdout, '--holdout', 0.05, 0.5) ?? (typeof hp.holdoutFraction === 'number' ? hp.holdoutFraction : 0.15);
    const maxPerClass = numberFlag(values['max-per-class'], '--max-per-class', 1, 1e9) ?? (typeof hp.maxPerClass === 'number' ? hp.maxPerClass : undefined);
    const save = async (metadata: typeof stored.metadata) => {
      await updateMetadata(stored.dir, metadata);
      await writeFileAtomic(path.join(stored.dir, 'MODEL_CARD.md'), renderModelCard(metadata));
    };
    if (values.off) {
      if (positionals.length) throw new UsageError('--off takes no data folder');
      const { familiarity: _removed, ...rest } = stored.metadata;
      if (!values['dry-run']) await save(rest);
      io.out(`${stored.metadata.id}: familiarity check ${stored.metadata.familiarity ? 'removed' : 'was not set'}`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('name exactly one data folder (with train/ and val/, as for cxr train)');
    await engineFromFlags(values.backend);
    const model = await loadStoredModel(stored);
    try {
      if (!values.layer) {
        const layers = vectorLayers(model);
        throw new UsageError(`choose the layer with --layer NAME; layers of ${stored.metadata.id} that give one vector per image: ${layers.map((l) => `${l.name} (${l.width})`).join(', ') || 'none'}`);
      }
      const folder = path.resolve(positionals[0]);
      const split = await folderSplit(folder, { seed, holdoutFraction, maxPerClass });
      const bar = progressBar(io, 'features');
      const fit = await fitFamiliarity(model, stored.metadata, {
        layer: values.layer, margin, engine,
        fit: split.fit.map((it) => it.path), fitDataset: `${positionals[0]} (fit part: train/ minus the seed-${seed} ${holdoutFraction} hold-out)`,
        limitOn: split.selection.map((it) => it.path), limitDataset: `${positionals[0]} (selection part: the hold-out + val/)`,
        onProgress: (d, t) => bar.update(d, t),
      });
      for (const f of fit.skipped) io.err(`skipped ${f.path}: ${f.reason}`);
      const r = fit.record;
      if (values.json) io.out(JSON.stringify({ ...r, center: { length: r.center.length }, engine: fit.engine }, null, 2));
      else {
        const line = (name: string, d: number[]) => `  ${name}: ${d.length} images, distance median ${q(d, 0.5).toFixed(3)}, 99th percentile ${q(d, 0.99).toFixed(3)}, largest ${Math.max(...d).toFixed(3)}`;
        io.out(`${stored.metadata.id} v${stored.metadata.version}: familiarity at layer ${r.layer} (${r.center.length} values), limit ${r.limit.toFixed(3)} (${margin} × ${r.limitFrom.largest.toFixed(3)})`);
        io.out(line('fit', fit.fitDistances));
        io.out(line('selection', fit.limitDistances));
        io.out(`  fit images over the limit (they would now be refused): ${fit.fitDistances.filter((d) => d > r.limit).length}`);
      }
      if (values['dry-run']) io.err('dry run: the model was not changed');
      else {
        const command = `npx cxr familiarity ${argv.filter((a) => a !== '--json').map(shellQuote).join(' ')}`;
        await save({ ...stored.metadata, familiarity: { ...r, command } });
        io.err(`familiarity check stored in ${stored.dir}/metadata.json and MODEL_CARD.md`);
      }
      return fit.skipped.length ? 2 : 0;
    } finally {
      model.dispose();
    }
  },
};
