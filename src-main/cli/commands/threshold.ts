import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { engineFromFlags, engineOptions, numberFlag, parse, progressBar, unfamiliarScoredWarning } from '../common.ts';
import { scanDataset } from '../../core/dataset/scan.ts';
import type { OperatingRule } from '../../core/evaluation/operating-point.ts';
import { scoreItems } from '../../core/evaluation/score-folder.ts';
import { withOperatingPoint } from '../../core/evaluation/set-operating-point.ts';
import { writeFileAtomic } from '../../core/fs/atomic-write.ts';
import { renderModelCard } from '../../core/models/model-card.ts';
import { modelFittedHashes } from '../../core/models/fitted-images.ts';
import { resolveModel, updateMetadata } from '../../core/models/store.ts';
import { findLocked, readLockedTest } from '../../core/release/locked-test.ts';

const TEST_NAMES = new Set(['test', 'test-dev']);

const usage = `usage: cxr threshold <validation-folder> --model ID [--target-sensitivity S | --target-specificity S | --youden]
                     [--calibrate platt|temperature] [--dry-run] [--json] [--backend NAME] [--models-dir DIR]

Chooses the model's decision threshold on labelled validation data (NORMAL/ and PNEUMONIA/, or the val/ split
of a split/class folder): the highest threshold with sensitivity ≥ S, the lowest with specificity ≥ S, or the
maximum of Youden's J (the default). --calibrate fits Platt or temperature scaling on the same data first; the
threshold is then on calibrated probabilities. Rule, data and expected rates go into metadata.json and MODEL_CARD.md.
A folder named test or test-dev, or holding any file of the locked test set (cxr lock-test), is refused, as is one
holding an image the model was trained on (by content, from its training-data.csv).`;

function ruleFrom(values: { 'target-sensitivity'?: string; 'target-specificity'?: string; youden?: boolean }): OperatingRule {
  const given = [values['target-sensitivity'] !== undefined, values['target-specificity'] !== undefined, !!values.youden].filter(Boolean).length;
  if (given > 1) throw new UsageError('use only one of --target-sensitivity, --target-specificity, --youden');
  if (values['target-sensitivity'] !== undefined) return { kind: 'target-sensitivity', target: numberFlag(values['target-sensitivity'], '--target-sensitivity', 0.01, 1)! };
  if (values['target-specificity'] !== undefined) return { kind: 'target-specificity', target: numberFlag(values['target-specificity'], '--target-specificity', 0.01, 1)! };
  return { kind: 'youden' };
}

export const thresholdCommand: Command = {
  name: 'threshold',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      ...engineOptions, model: { type: 'string' }, 'target-sensitivity': { type: 'string' }, 'target-specificity': { type: 'string' },
      youden: { type: 'boolean' }, calibrate: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('name exactly one validation folder');
    const rule = ruleFrom(values);
    const cal = values.calibrate;
    if (cal !== undefined && cal !== 'platt' && cal !== 'temperature') throw new UsageError('--calibrate must be platt or temperature');
    const folder = path.resolve(positionals[0]);
    if (TEST_NAMES.has(path.basename(folder).toLowerCase())) {
      throw new Error(`${folder}: this is a test folder; choose the threshold on validation data (e.g. val/), never on test data`);
    }
    await engineFromFlags(values.backend);
    const stored = await resolveModel(values.model, { modelsDir: values['models-dir'] });
    const scan = await scanDataset(folder, { hash: true });
    const items = scan.layout === 'split/class'
      ? scan.items.filter((it) => it.split === 'val' || it.split === 'validation')
      : scan.items.filter((it) => it.label != null);
    if (!items.length) throw new Error(`${folder}: no labelled validation images (expected NORMAL/ and PNEUMONIA/, or val/NORMAL and val/PNEUMONIA)`);
    const leaked = findLocked(await readLockedTest(), items);
    if (leaked) throw new Error(`${leaked.path}: this image is in the locked test set (same content); remove it from the validation folder`);
    const fitted = await modelFittedHashes(stored, { modelsDir: values['models-dir'] });
    const seen = items.filter((it) => it.sha256 && fitted.hashes.has(it.sha256));
    if (seen.length) {
      throw new Error(`${seen[0].path}: ${stored.metadata.id} was trained on this image (and ${seen.length - 1} more of the ${items.length} here); choose the threshold on images it never trained on (its selection data, e.g. val/, or new validation data)`);
    }
    for (const u of fitted.unchecked) io.err(`note: training data of ${u} unknown, so overlap with this folder was not checked`);
    const bar = progressBar(io, 'scoring');
    const scored = await scoreItems(stored, items, { raw: true, onProgress: (d, t) => bar.update(d, t) });
    for (const f of scored.failures) io.err(`skipped ${f.path}: ${f.reason}`);
    if (scored.unfamiliar.length) io.err(unfamiliarScoredWarning(scored.unfamiliar.length, scored.sha256.length, stored.metadata.id, scored.unfamiliar[0], 'they count towards the threshold'));
    const { metadata, point } = withOperatingPoint(stored.metadata, { rule, calibrate: cal as 'platt' | 'temperature' | undefined, dataset: folder, labels: scored.labels, rawProbabilities: scored.probabilities });
    if (values.json) io.out(JSON.stringify({ threshold: point.threshold, operatingPoint: metadata.operatingPoint, calibration: metadata.calibration ?? null }, null, 2));
    else {
      io.out(`${metadata.id} v${metadata.version}: threshold ${point.threshold.toFixed(4)} (was ${stored.metadata.threshold.toFixed(4)})`);
      io.out(`  expected sensitivity ${(100 * point.sensitivity).toFixed(1)}%, specificity ${(100 * point.specificity).toFixed(1)}% on ${scored.labels.length} validation images`);
      if (metadata.calibration) io.out(`  calibration ${metadata.calibration.method}: ${JSON.stringify({ a: metadata.calibration.a, b: metadata.calibration.b, temperature: metadata.calibration.temperature })}`);
    }
    if (values['dry-run']) io.err('dry run: the model was not changed');
    else {
      await updateMetadata(stored.dir, metadata);
      await writeFileAtomic(path.join(stored.dir, 'MODEL_CARD.md'), renderModelCard(metadata));
      io.err(`operating point stored in ${stored.dir}/metadata.json and MODEL_CARD.md`);
    }
    return scored.failures.length ? 2 : 0;
  },
};
