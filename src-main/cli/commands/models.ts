import type { Command } from '../command.ts';
import { parse } from '../common.ts';
import { listModels } from '../../core/models/store.ts';

const f3 = (x: number | undefined) => (x == null || !Number.isFinite(x) ? '  –  ' : x.toFixed(3));

export const modelsCommand: Command = {
  name: 'models',
  usage: 'usage: cxr models [--models-dir DIR] [--json]',
  async run(argv, io) {
    const { values } = parse(argv, { 'models-dir': { type: 'string' }, json: { type: 'boolean' } }, false);
    const { models, broken } = await listModels({ modelsDir: values['models-dir'] });
    if (values.json) {
      io.out(JSON.stringify({ models: models.map((m) => ({ ...m.metadata, dir: m.dir, source: m.source })), broken }, null, 2));
      return 0;
    }
    if (!models.length) io.out('no models installed');
    for (const m of models) {
      const md = m.metadata;
      io.out(`${md.id}  v${md.version}  (${m.source})  ${md.name}`);
      io.out(`  ${md.architecture}, ${md.parameters.toLocaleString('en-US')} params, input ${md.input.width}×${md.input.height}×${md.input.channels} ${md.input.scaling}${md.input.tone ? ` tone ${md.input.tone}` : md.input.toneByChannel ? ` channel tones ${md.input.toneByChannel.join('/')}` : ''}, threshold ${md.threshold.toFixed(3)}`);
      for (const [k, s] of Object.entries(md.metrics ?? {})) {
        io.out(`  ${k}: n=${s.n} AUC ${f3(s.auc.value)} [${f3(s.auc.ci95[0])}–${f3(s.auc.ci95[1])}]  acc ${f3(s.accuracy.value)}  sens ${f3(s.sensitivity.value)}  spec ${f3(s.specificity.value)}`);
      }
      io.out(`  ${m.dir}`);
    }
    for (const b of broken) io.out(`BROKEN ${b.dir}: ${b.reason}`);
    return 0;
  },
};
