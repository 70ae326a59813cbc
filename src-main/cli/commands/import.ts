import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Scaling } from '../../../src-shared/types.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse, progressBar } from '../common.ts';
import { checkPreprocessing } from '../../core/interchange/check-preprocessing.ts';
import { ImportChoiceError, importMetadata, inputFromModel, outputFromModel, scalingFromModel, type ImportChoices } from '../../core/interchange/import-metadata.ts';
import { importModel } from '../../core/interchange/import-model.ts';
import { renderModelCard } from '../../core/models/model-card.ts';
import { userModelsDir } from '../../core/models/paths.ts';
import { loadStoredModel, resolveModel, saveModel } from '../../core/models/store.ts';

const SCALINGS: Scaling[] = ['scale255', 'raw', 'samplewise', 'imagenet'];

function choices(v: Record<string, string | boolean | undefined>): ImportChoices {
  const str = (k: string) => v[k] as string | undefined;
  const pre = str('preprocessing');
  if (pre && !SCALINGS.includes(pre as Scaling)) throw new UsageError(`--preprocessing must be one of ${SCALINGS.join(', ')} (got "${pre}")`);
  const out = str('output');
  if (out && out !== 'sigmoid' && out !== 'softmax') throw new UsageError(`--output must be sigmoid or softmax (got "${out}")`);
  const ch = numberFlag(str('channels'), '--channels', 1, 3);
  if (ch != null && ch !== 1 && ch !== 3) throw new UsageError('--channels must be 1 or 3');
  const classes = str('classes')?.split(',').map((s) => s.trim()).filter(Boolean);
  if (classes && classes.length !== 2) throw new UsageError('--classes needs two names, negative first: e.g. --classes normal,pneumonia');
  const id = str('id');
  if (id != null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) throw new UsageError(`--id "${id}": use letters, digits, ".", "_" or "-" (max 64)`);
  const size = numberFlag(str('input-size'), '--input-size', 8, 1024);
  return {
    id, name: str('name'), inputSize: size, channels: ch as 1 | 3 | undefined, preprocessing: pre as Scaling | undefined,
    classes, output: out as ImportChoices['output'], threshold: numberFlag(str('threshold'), '--threshold', 0, 1),
  };
}

export const importCommand: Command = {
  name: 'import',
  usage: `usage: cxr import <file|folder> [--id ID] [--name NAME] [--input-size N] [--channels 1|3]
                  [--preprocessing scale255|raw|samplewise|imagenet] [--classes normal,pneumonia]
                  [--output sigmoid|softmax] [--threshold 0.5] [--models-dir DIR] [--force] [--backend NAME]
       cxr import --check <labelled-folder> <file|folder> [same flags]

Formats (detected by content, not extension): Keras 2 HDF5 .h5 (model.save), Keras 3 .keras zip,
TensorFlow.js layers model folder / model.json / zip. Graph models are refused.
The input size and channels come from the model; --input-size/--channels fill unknown ones.
--preprocessing defaults to raw when the model starts with Rescaling(1/255) (or 1/127.5, -1);
otherwise it is required. --check runs the model on NORMAL/ and PNEUMONIA/ images under each
preprocessing and prints AUC and the fraction predicted positive, storing nothing.
The model is stored in the user's models folder (--models-dir) under --id (default: file name);
--force replaces a model with the same id there.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions, id: { type: 'string' }, name: { type: 'string' }, 'input-size': { type: 'string' }, channels: { type: 'string' },
      preprocessing: { type: 'string' }, classes: { type: 'string' }, output: { type: 'string' }, threshold: { type: 'string' },
      check: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('name exactly one model file or folder to import');
    const c = choices(values);
    await engineFromFlags(values.backend);
    const src = path.resolve(positionals[0]);
    const imported = await importModel(src);
    try {
      if (values.check) return await runCheck(imported, c, path.resolve(values.check), io, Boolean(values.json));
      let md;
      try {
        md = importMetadata(imported, c);
      } catch (e) {
        if (e instanceof ImportChoiceError) throw new UsageError(e.message);
        throw e;
      }
      const dir = path.join(userModelsDir(values['models-dir']), md.id);
      if (existsSync(dir) && !values.force) throw new Error(`${dir}: a model with id "${md.id}" already exists; choose another --id or add --force to replace it`);
      const full = await saveModel(imported.model, md, dir, (f) => ({ 'MODEL_CARD.md': renderModelCard(f) }));
      await verifyReload(imported.model, md.id, values['models-dir'], full.input);
      if (values.json) io.out(JSON.stringify({ ...full, dir }, null, 2));
      else {
        const i = full.input;
        io.out(`imported ${src} (${imported.format}) as "${full.id}": ${full.parameters.toLocaleString('en-US')} params, input ${i.width}×${i.height}×${i.channels}, preprocessing ${i.scaling}, ${full.output} → P(${full.positiveClass}), threshold ${full.threshold}`);
        io.out(`  stored in ${dir}`);
        io.out(`  next: cxr summary ${full.id}   cxr evaluate <labelled-folder> --model ${full.id}   cxr classify <images> --model ${full.id}`);
      }
      return 0;
    } finally {
      imported.model.dispose();
    }
  },
};

/** Reloads the stored model and checks it gives the same outputs as the imported one. */
async function verifyReload(model: import('@tensorflow/tfjs-layers').LayersModel, id: string, modelsDir: string | undefined, input: { height: number; width: number; channels: number }) {
  const stored = await resolveModel(id, { modelsDir });
  const again = await loadStoredModel(stored);
  try {
    const x = tf.randomUniform([2, input.height, input.width, input.channels], 0, 1, 'float32', 7);
    const [a, b] = [model.predict(x) as tf.Tensor, again.predict(x) as tf.Tensor];
    const diff = (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
    tf.dispose([x, a, b]);
    if (!(diff <= 1e-5)) throw new Error(`${stored.dir}: the stored model does not reproduce the imported one (max difference ${diff}); please report this model`);
  } finally {
    again.dispose();
  }
}

async function runCheck(imported: Awaited<ReturnType<typeof importModel>>, c: ImportChoices, folder: string, io: Parameters<Command['run']>[1], json: boolean): Promise<number> {
  const { height, width, channels } = inputFromModel(imported, c);
  const classNames = c.classes ?? ['NORMAL', 'PNEUMONIA'];
  const metadata = {
    input: { height, width, channels, resize: 'stretch' as const, scaling: 'raw' as const },
    classNames, positiveClass: classNames[1], output: outputFromModel(imported, c), threshold: c.threshold ?? 0.5,
  };
  const bar = progressBar(io, 'decoding');
  const { results, failures } = await checkPreprocessing({ model: imported.model, metadata, folder, onProgress: (d, t) => bar.update(d, t) });
  for (const f of failures) io.err(`skipped ${f}`);
  const implied = scalingFromModel(imported);
  if (json) {
    io.out(JSON.stringify({ source: imported.source, folder, implied, results }, null, 2));
    return failures.length ? 2 : 0;
  }
  const best = results.filter((r) => !r.skipped).sort((a, b) => b.auc - a.auc)[0];
  io.out(`${imported.source} on ${folder} (n=${best?.n ?? 0}, threshold ${metadata.threshold}):`);
  io.out(`  ${'preprocessing'.padEnd(14)} ${'AUC'.padStart(6)}  ${`predicted ${classNames[1]}`.padStart(20)}  ${'mean P'.padStart(7)}`);
  for (const r of results) {
    if (r.skipped) { io.out(`  ${r.scaling.padEnd(14)} skipped: ${r.skipped}`); continue; }
    const tags = [r === best ? 'best AUC' : '', implied === r.scaling ? 'implied by Rescaling layer' : ''].filter(Boolean).join(', ');
    io.out(`  ${r.scaling.padEnd(14)} ${r.auc.toFixed(3).padStart(6)}  ${`${(100 * r.fractionPositive).toFixed(1)}%`.padStart(20)}  ${r.meanProbability.toFixed(3).padStart(7)}${tags ? `  ← ${tags}` : ''}`);
  }
  io.out('A preprocessing that predicts nearly everything one class, or AUC near 0.5, does not match the model\'s training.');
  if (best) io.out(`To store it: cxr import ${imported.source} --preprocessing ${implied ?? best.scaling}`);
  return failures.length ? 2 : 0;
}
