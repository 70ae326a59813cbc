// What one `npm run bench` measures, from environment variables (all optional; see bench/README.md).

/** Parts of the bench, in run order. */
export const PARTS = ['model', 'classify', 'training', 'explain', 'memory'] as const;
export type Part = (typeof PARTS)[number];

/** Engines the bench knows (BENCH_BACKENDS names; aliases accepted). */
export const ENGINES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', 'onnx', 'onnx-cuda'] as const;
export type EngineKey = (typeof ENGINES)[number];

const ALIASES: Record<string, EngineKey> = {
  gpu: 'tensorflow-gpu', 'tfjs-node-gpu': 'tensorflow-gpu', 'tensorflow-gpu': 'tensorflow-gpu',
  node: 'tensorflow', 'tfjs-node': 'tensorflow', tensorflow: 'tensorflow',
  wasm: 'wasm', cpu: 'cpu', onnx: 'onnx', onnxruntime: 'onnx', 'onnx-cuda': 'onnx-cuda', cuda: 'onnx-cuda',
};

export interface BenchConfig {
  parts: Set<Part>;
  engines: Set<EngineKey>;
  /** Multiplies every timed loop's minimum duration (1 = full run). */
  scale: number;
  /** How many test-dev images the classify rows use (0 = all). */
  files: number;
  /** Images in the memory run. */
  memoryImages: number;
  /** Whether to run the one slow tfjs cpu training step. */
  cpuTraining: boolean;
  /** The "default" network: a model id or folder (default: the shipped default model). */
  model?: string;
  /** Padding of the reference CNN's convolutions. */
  referencePadding: 'valid' | 'same';
}

function list<T extends string>(value: string | undefined, all: readonly T[], name: string, alias: Record<string, T> = {}): Set<T> {
  if (!value?.trim()) return new Set(all);
  return new Set(value.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean).map((v) => {
    const k = (alias[v] ?? v) as T;
    if (!all.includes(k)) throw new Error(`${name}: unknown "${v}"; use ${all.join(', ')}`);
    return k;
  }));
}

function num(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number ≥ 0 (got "${value}")`);
  return n;
}

/** Reads the bench's environment variables; throws naming a bad one. */
export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const engines = list(env.BENCH_BACKENDS, ENGINES, 'BENCH_BACKENDS', ALIASES);
  if (engines.has('onnx')) engines.add('onnx-cuda'); // "onnx" means onnxruntime on every provider present
  const padding = (env.BENCH_REF_PADDING ?? 'valid').toLowerCase();
  if (padding !== 'valid' && padding !== 'same') throw new Error(`BENCH_REF_PADDING: use valid or same (got "${padding}")`);
  return {
    parts: list(env.BENCH_PARTS, PARTS, 'BENCH_PARTS'),
    engines,
    scale: num(env.BENCH_SCALE, 1, 'BENCH_SCALE'),
    files: Math.floor(num(env.BENCH_FILES, 0, 'BENCH_FILES')),
    memoryImages: Math.floor(num(env.BENCH_MEMORY_IMAGES, 2000, 'BENCH_MEMORY_IMAGES')),
    cpuTraining: env.BENCH_CPU_TRAINING !== '0',
    model: env.BENCH_MODEL || undefined,
    referencePadding: padding,
  };
}
