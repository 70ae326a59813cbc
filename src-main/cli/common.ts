import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { EngineInfo, SourceForm } from '../../src-shared/types.ts';
import { initEngine, parseBackendName } from '../core/engine/backend.ts';
import { parseWorkers } from '../core/training/parallel/workers-option.ts';
import type { WeightStorage } from '../core/models/quantize-weights.ts';
import { UsageError } from './command.ts';

/** Options every command that runs a model accepts. */
export const engineOptions = {
  backend: { type: 'string' },
  'models-dir': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** node:util parseArgs with usage errors turned into UsageError. */
export function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Initialises the engine from --backend or CXR_BACKEND. */
export async function engineFromFlags(backend: string | undefined): Promise<EngineInfo> {
  if (backend) {
    let name;
    try {
      name = parseBackendName(backend, '--backend');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    return initEngine({ backend: name, chosenBy: 'flag --backend' });
  }
  return initEngine({});
}

/** Parses a number flag within bounds or throws a UsageError naming the flag. */
export function numberFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max} (got "${value}")`);
  return n;
}

/** The selection score an epoch was chosen by, beside its AUC in a progress line (only --balance-aspect sets one). */
export function heldFixedNote(record: { valScore?: number }): string {
  return record.valScore != null ? ` (aspect held fixed ${record.valScore.toFixed(4)})` : '';
}

/** A weight-storage flag (`cxr ensemble --weights`, `cxr quantize --to`): one of `allowed`, else a usage error. */
export function storageFlag<T extends WeightStorage>(value: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]} (got "${value}")`);
  return value as T;
}

/** The `--source-form SIDE:QUALITY` flag (e.g. 512:90; undefined when absent); a bad value is a usage error. */
export function sourceFormFlag(value: string | undefined): SourceForm | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+):(\d+)$/.exec(value);
  const [maxSide, jpegQuality] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(maxSide >= 16 && maxSide <= 16384 && jpegQuality >= 1 && jpegQuality <= 100)) {
    throw new UsageError(`--source-form must be LONG-SIDE:JPEG-QUALITY, e.g. 512:90 (the long side 16–16384 px, the quality 1–100; got "${value}")`);
  }
  return { maxSide, jpegQuality };
}

/** The `--workers N|auto` flag (undefined when absent); a bad value is a usage error. */
export function workersFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseWorkers(value);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A one-line progress bar for a TTY (written with \r), or null for plain output. */
export function progressBar(io: { err: (s: string) => void; isTTY: boolean }, label: string) {
  let last = 0;
  return {
    update(done: number, total: number, extra = '') {
      if (io.isTTY) {
        const w = 28;
        const f = total ? Math.round((w * done) / total) : w;
        process.stderr.write(`\r${label} [${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total} ${extra}\x1b[K`);
        if (done === total) process.stderr.write('\n');
      } else {
        const step = Math.max(1, Math.ceil(total / 10));
        if (done === total || done - last >= step) {
          io.err(`${label}: ${done}/${total} ${extra}`.trimEnd());
          last = done;
        }
      }
    },
  };
}

/** Quotes one argument for a POSIX shell when it needs it (for the reproducible command in the model card). */
export function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * The warning evaluate, compare and threshold give when a model's familiarity check would refuse some of the labelled
 * images they score anyway: `example` names one (with why, where known), `here` says what is done with them.
 */
export function unfamiliarScoredWarning(count: number, total: number, model: string, example: string, here: string): string {
  return `warning: ${count} of these ${total} images are unlike the images ${model} was trained on (e.g. ${example}); cxr classify refuses such images, here ${here}`;
}
