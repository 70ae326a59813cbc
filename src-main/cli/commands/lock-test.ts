import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../common.ts';
import { lockedTestFile, lockTestFolder } from '../../core/release/locked-test.ts';

export const lockTestCommand: Command = {
  name: 'lock-test',
  usage: `usage: cxr lock-test <labelled-folder>

Hashes every image under <labelled-folder> (NORMAL/ and PNEUMONIA/) into $CXR_HOME/locked-test.json.
cxr retrain scores old and new models on this set and refuses training data that contains any of its
files; cxr threshold refuses validation data that contains them. Locking again replaces the set.`,
  async run(argv, io) {
    const { positionals } = parse(argv, {});
    if (positionals.length !== 1) throw new UsageError('name exactly one labelled folder');
    const locked = await lockTestFolder(positionals[0]);
    const per = new Map<string, number>();
    for (const f of locked.files) per.set(f.label, (per.get(f.label) ?? 0) + 1);
    io.out(`locked ${locked.files.length} images of ${locked.folder} (${[...per].map(([k, v]) => `${v} ${k}`).join(', ')}) in ${lockedTestFile()}`);
    return 0;
  },
};
