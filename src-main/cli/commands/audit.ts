import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../common.ts';
import { auditHead, verifyAuditChain, type AuditHead } from '../../core/history/index.ts';
import { historyFile, historyOption, withHistory } from './history.ts';

const usage = `usage: cxr audit verify [--expect-head SEQ:HASH] [--history FILE]
       cxr audit head [--history FILE]

verify: re-computes the audit chain and checks every audited row against it. With --expect-head
(as printed after \`cxr classify\` or \`cxr override\`), also checks that entry is still there, unchanged,
which detects removal of the newest entries. Exit 0 when intact, 2 when broken (the first bad entry
and why), 1 on a usage error or an unreadable file.
head: prints the newest entry as SEQ:HASH.`;

function parseHead(value: string | undefined): AuditHead | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+):([0-9a-f]{64})$/i.exec(value.trim());
  if (!m) throw new UsageError(`--expect-head must be SEQ:HASH, e.g. 42:<64 hex digits> (got "${value}")`);
  return { seq: Number(m[1]), hash: m[2].toLowerCase() };
}

export const auditCommand: Command = {
  name: 'audit',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { ...historyOption, 'expect-head': { type: 'string' } });
    const [sub, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const file = historyFile(values.history);
    if (sub === 'head') {
      const head = await withHistory(file, true, (db) => auditHead(db));
      io.out(head ? `${head.seq}:${head.hash}` : 'the audit log is empty');
      return 0;
    }
    if (sub !== 'verify') throw new UsageError(sub ? `unknown sub-command "${sub}"; use verify or head` : 'name a sub-command: verify or head');
    const expectHead = parseHead(values['expect-head']);
    const result = await withHistory(file, true, (db) => verifyAuditChain(db, { expectHead }));
    if (result.ok) {
      io.out(`audit chain ok: ${result.rows} entries in ${file}`);
      if (result.head) io.out(`head: ${result.head.seq}:${result.head.hash}`);
      return 0;
    }
    io.out(`audit chain BROKEN in ${file} at seq ${result.brokenAt}: ${result.reason}`);
    io.err('The history was changed outside CXR Workstation (or entries were removed). Keep the file as evidence and restore a backup (`cxr backup`) to continue.');
    return 2;
  },
};
