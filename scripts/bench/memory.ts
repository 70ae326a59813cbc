// Memory: `cxr classify` over 2,000 images (test-dev + train + val from ../shared/data, cycled as
// symlinks in a temporary folder; nothing is copied) in a fresh process, history into a temporary
// CXR_HOME; reports the process's peak RSS against issue #4's 1.5 GB goal.
// `npm run bench:memory` runs this alone; `npm run bench` runs it as its last part.
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { listImageFiles } from '../../src-main/core/dataset/list-files.ts';
import { sharedDataDir } from '../../src-main/core/models/paths.ts';
import { runClassifyChild } from './child.ts';
import { defaultNetwork } from './networks.ts';
import { autoEngineLabel, fmt, unavailableRow, type Row } from './rows.ts';
import { evaluateTargets, TARGETS } from './targets.ts';
import { progress } from './timing.ts';

/** `count` paths cycling through `files` (the same file may appear several times). */
export function cycle<T>(files: T[], count: number): T[] {
  if (!files.length) return [];
  return Array.from({ length: count }, (_, i) => files[i % files.length]);
}

/** The memory row: a classify of `count` images through the real CLI path. */
export async function classifyMemory(count: number, model?: string, network = 'default'): Promise<Row> {
  const engine = 'cxr classify (auto)';
  const data = sharedDataDir();
  const { files } = await listImageFiles(['test-dev', 'train', 'val'].map((d) => path.join(data, d)));
  if (!files.length) return unavailableRow(network, engine, 'memory', `no images under ${data}/{test-dev,train,val}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cxr-bench-memory-'));
  try {
    const images = path.join(dir, 'images');
    await mkdir(images);
    const picked = cycle(files, count);
    const width = String(picked.length).length;
    for (let i = 0; i < picked.length; i++) {
      await symlink(picked[i], path.join(images, `${String(i).padStart(width, '0')}-${path.basename(picked[i])}`));
    }
    progress(`memory: classifying ${picked.length} images (${files.length} distinct files, symlinked in ${images}) …`);
    const out = await runClassifyChild({ mode: 'memory', inputs: [images], runs: [{ label: engine, args: [] }], model });
    if (out.mode !== 'memory') throw new Error('unexpected child result');
    const r = out.results[0];
    progress(`memory: peak RSS ${fmt(r.peakRssBytes / 1e6, 0)} MB over ${r.images} images`);
    return {
      network, engine: autoEngineLabel(r.engine), bench: 'memory', batch: 0,
      images: r.images, seconds: r.seconds, gflopPerImage: 0, peakRssBytes: r.peakRssBytes,
      note: `${r.peakFrom} of the whole classify process (start-up included), goal < ${fmt(TARGETS.memoryBytes / 1e6, 0)} MB; ${r.failed} failed; ${r.engine}`,
    };
  } catch (e) {
    return unavailableRow(network, engine, 'memory', (e as Error).message.split('\n')[0]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const count = Math.floor(Number(process.env.BENCH_MEMORY_IMAGES || 2000));
  const net = await defaultNetwork(process.env.BENCH_MODEL || undefined);
  console.log(`model: ${net.label}`);
  const row = await classifyMemory(count, net.stored?.dir, net.key);
  const [target] = evaluateTargets([row], { defaultNetwork: net.key, referenceNetwork: 'reference' }).filter((t) => t.goal.includes('RSS'));
  console.log(row.unavailable ? `memory: not measured: ${row.unavailable}` : `memory: ${row.images} images in ${row.seconds.toFixed(1)} s; ${row.note}`);
  console.log(`${target.status}: ${target.goal}: ${target.measured}`);
}
