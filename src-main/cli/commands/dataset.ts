import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse, progressBar } from '../common.ts';
import { describeFormSignal, FORM_SIGNAL_FLAG, formSignals, readFileForms } from '../../core/dataset/form-signals.ts';
import { scanDataset } from '../../core/dataset/scan.ts';
import { notGreyDetail } from '../../core/imaging/colour-check.ts';

export const datasetCommand: Command = {
  name: 'dataset',
  usage: `usage: cxr dataset <folder> [--no-hash] [--tone] [--json]

Understands split/class/* (train, val, test, test-dev), class/* and flat folders.
Duplicates are found by content (sha256); copies across splits are flagged as leaks.
Form signals: for each labelled split, how well file size, width, height, aspect ratio and
colour channels alone separate the classes (AUC; 0.5 = none). A flagged trait is a shortcut a
model may learn instead of the lungs: in Kermany's data the aspect ratio survives resizing.
--tone also decodes every image (slower) and adds its mean grey level and grey-level spread, as a
model sees the image (224 px grey centre crop): brightness and contrast that differ by class may be
exposure or machine rather than disease (see cxr train --tone). It also lists colour pictures (a photo,
a logo, an X-ray in false colour), which cxr train and cxr classify skip: every radiograph is grey.
Exit 2 when some files are unreadable or (with --tone) not grey.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { 'no-hash': { type: 'boolean' }, tone: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('name exactly one folder');
    const bar = progressBar(io, values['no-hash'] ? 'sizing' : 'hashing');
    const scan = await scanDataset(path.resolve(positionals[0]), { hash: !values['no-hash'], onProgress: (d, t) => bar.update(d, t) });
    const toneBar = values.tone ? progressBar(io, 'reading grey levels') : undefined;
    const forms = await readFileForms(scan.items, { tone: !!values.tone, onProgress: toneBar && ((d, t) => toneBar.update(d, t)) });
    const signals = formSignals(forms);
    const notGrey = forms.filter((f) => notGreyDetail(f.colouredShare ?? 0)).map((f) => ({ path: f.path, colouredShare: f.colouredShare! }));
    const code = scan.unreadable.length || notGrey.length ? 2 : 0;
    if (values.json) {
      io.out(JSON.stringify({ ...scan, items: undefined, files: scan.items.length, formSignals: signals, ...(values.tone ? { notGrey } : {}) }, null, 2));
      return code;
    }
    io.out(`${scan.root}: layout ${scan.layout}, ${scan.items.length} image files`);
    const labels = [...new Set(Object.values(scan.counts).flatMap((c) => Object.keys(c)))].sort();
    io.out(`  ${'split'.padEnd(12)} ${labels.map((l) => l.padStart(11)).join(' ')}`);
    for (const [split, c] of Object.entries(scan.counts)) io.out(`  ${split.padEnd(12)} ${labels.map((l) => String(c[l] ?? 0).padStart(11)).join(' ')}`);
    if (!values['no-hash']) io.out(`duplicates (same content): ${scan.duplicates.length} group(s)`);
    for (const d of scan.duplicates.slice(0, 20)) io.out(`  ${d.sha256.slice(0, 12)}… ${d.files.join('  ')}`);
    for (const d of scan.leaks) io.out(`  LEAK across splits ${d.splits.join(' / ')}: ${d.files.join('  ')} — remove the copy from training data`);
    if (signals.length) io.out(`form signals (each trait alone; AUC 0.5 = none, ! = ${FORM_SIGNAL_FLAG} or more):`);
    for (const r of signals) {
      const counts = Object.entries(r.counts).map(([l, n]) => `${n} ${l}`).join(' / ');
      io.out(`  ${r.split} (${counts}): ${r.signals.map((s) => `${s.trait} ${s.separation.toFixed(2)}${s.flagged ? ' !' : ''}`).join(', ')}`);
      for (const s of r.signals.filter((x) => x.flagged)) io.out(`    ! ${describeFormSignal(s)}`);
    }
    if (scan.ignored.length) io.out(`ignored (outside the layout): ${scan.ignored.join(', ')}`);
    for (const f of scan.unreadable) io.out(`unreadable: ${f.path}: ${f.reason}`);
    for (const f of notGrey) io.out(`not grey: ${f.path}: ${notGreyDetail(f.colouredShare)}; cxr train and cxr classify skip it (is it a chest X-ray?)`);
    return code;
  },
};
