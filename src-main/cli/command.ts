/** The shape every `cxr` sub-command has. */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  isTTY: boolean;
}

export interface Command {
  name: string;
  usage: string;
  /** Returns the process exit code: 0 ok, 1 usage error, 2 partial failure. */
  run: (argv: string[], io: CliIO) => Promise<number>;
}

/** Thrown for bad command-line usage; main prints the message and the usage, exit 1. */
export class UsageError extends Error {}
