import type { CliIO } from './command.ts';
import { UsageError } from './command.ts';
import { commands } from './commands/index.ts';

function defaultIO(): CliIO {
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
  };
}

function help(io: CliIO): void {
  io.out('cxr: CXR Workstation command line (research software, not for diagnostic use)');
  io.out('');
  io.out('Commands:');
  for (const c of commands) io.out(`  ${c.name.padEnd(16)} ${c.summary}`);
  io.out('');
  io.out('Run `cxr <command> --help` for a command\'s options.');
}

/** Runs the CLI with the given arguments and returns the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name ? 0 : 1;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.err(`cxr: unknown command "${name}". Run \`cxr --help\` to list commands.`);
    return 1;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`cxr ${name}: ${e.message}`);
      io.err(cmd.usage);
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`cxr ${name}: ${msg}`);
    if (process.env.CXR_DEBUG && e instanceof Error) io.err(e.stack ?? '');
    return 1;
  }
}
