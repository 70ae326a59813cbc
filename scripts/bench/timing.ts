// Timed loops: one warm-up call, then as many calls as fit in a minimum duration (capped).

export interface Timing {
  runs: number;
  seconds: number;
}

/** Calls `fn` once untimed (`warmup`), then repeatedly for at least `minSeconds` (at least once, at most `maxRuns`). */
export async function timeIt(fn: () => Promise<void>, minSeconds: number, maxRuns: number, warmup = true): Promise<Timing> {
  if (warmup) await fn();
  let runs = 0;
  const t0 = performance.now();
  do {
    await fn();
    runs++;
  } while (runs < maxRuns && (performance.now() - t0) / 1000 < minSeconds);
  return { runs, seconds: (performance.now() - t0) / 1000 };
}

/** Seconds one call of `fn` takes. */
export async function secondsOf(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** One line of progress on stderr (the table goes to stdout). */
export function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}
