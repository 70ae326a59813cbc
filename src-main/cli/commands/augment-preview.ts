import path from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { AUGMENT_USAGE, augmentFromFlags, augmentOptions } from '../augment-flags.ts';
import { numberFlag, parse } from '../common.ts';
import { writeAugmentPreview } from '../../core/augment/preview-grid.ts';

export const augmentPreviewCommand: Command = {
  name: 'augment-preview',
  usage: `usage: cxr augment-preview <image> --out grid.png [--count 16] [--size 192] [--seed 1]
                           ${AUGMENT_USAGE}

The first tile is the original (resized to --size); the others are augmented with the same ranges
cxr train uses (see cxr train --help), drawn with --seed.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { out: { type: 'string' }, count: { type: 'string' }, size: { type: 'string' }, seed: { type: 'string' }, ...augmentOptions });
    if (positionals.length !== 1) throw new UsageError('name exactly one image');
    if (!values.out) throw new UsageError('--out FILE.png is required');
    if (!values.out.toLowerCase().endsWith('.png')) throw new UsageError('--out must end in .png');
    const ranges = augmentFromFlags(values);
    const count = numberFlag(values.count, '--count', 1, 100) ?? 16;
    const size = numberFlag(values.size, '--size', 32, 512) ?? 192;
    const seed = numberFlag(values.seed, '--seed', 0, 2 ** 31) ?? 1;
    const { cols, rows } = await writeAugmentPreview(path.resolve(positionals[0]), path.resolve(values.out), ranges, { count: Math.round(count), size: Math.round(size), seed });
    io.out(`wrote ${values.out}: ${cols}×${rows} grid (original first), ranges ${JSON.stringify(ranges)}`);
    return 0;
  },
};
