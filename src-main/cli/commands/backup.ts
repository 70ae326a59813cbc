import { existsSync } from 'node:fs';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../common.ts';
import { backupHistory } from '../../core/history/index.ts';
import { historyFile, historyOption, withHistory } from './history.ts';

const usage = `usage: cxr backup <file> [--force] [--history FILE]

Copies the history to <file> with SQLite's online backup (safe while \`cxr classify\` is writing).
The copy is integrity-checked before it replaces <file>; an existing <file> needs --force.`;

export const backupCommand: Command = {
  name: 'backup',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...historyOption, force: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('name exactly one destination file');
    const dest = positionals[0];
    const file = historyFile(values.history);
    if (existsSync(dest) && !values.force) throw new UsageError(`${dest} exists; choose another file, or pass --force to replace it`);
    const r = await withHistory(file, true, (db) => backupHistory(db, dest));
    io.out(`backed up ${file} to ${r.file} (${r.bytes} bytes, ${r.pages} pages)`);
    return 0;
  },
};
