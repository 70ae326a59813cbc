import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { BackendCandidate, BackendName, EngineInfo } from '../../../src-shared/types.ts';
import { registerWasmTrainingKernels } from './wasm-kernels/index.ts';

export const BACKEND_NAMES: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const require = createRequire(import.meta.url);
let current: EngineInfo | null = null;

/** What the engine needs to know to choose. */
export interface EngineOptions {
  /** 'auto' (default) or a backend name; the CLI passes --backend, else CXR_BACKEND. */
  backend?: BackendName | 'auto';
  chosenBy?: string;
}

/** Parses a backend name from a flag or environment value; throws a usage-style error for unknown names. */
export function parseBackendName(value: string, source: string): BackendName | 'auto' {
  const v = value.trim().toLowerCase();
  const alias: Record<string, BackendName | 'auto'> = {
    auto: 'auto', gpu: 'tensorflow-gpu', 'tensorflow-gpu': 'tensorflow-gpu', 'tfjs-node-gpu': 'tensorflow-gpu',
    tensorflow: 'tensorflow', node: 'tensorflow', 'tfjs-node': 'tensorflow', wasm: 'wasm', cpu: 'cpu',
  };
  const r = alias[v];
  if (!r) throw new Error(`${source}: unknown backend "${value}"; use one of auto, ${BACKEND_NAMES.join(', ')}`);
  return r;
}

/** True when the package's native addon was built (its install step fetches libtensorflow). */
function hasNativeAddon(pkg: string): boolean {
  try {
    const dir = path.dirname(require.resolve(`${pkg}/package.json`));
    const lib = path.join(dir, 'lib');
    return existsSync(lib) && readdirSync(lib).some((d) => existsSync(path.join(lib, d, 'tfjs_binding.node')));
  } catch {
    return false;
  }
}

async function tryNative(pkg: string): Promise<{ ok: boolean; detail: string; gpu?: boolean }> {
  try {
    require.resolve(`${pkg}/package.json`);
  } catch {
    return { ok: false, detail: `${pkg} is not installed (optional; it needs libtensorflow)` };
  }
  // Importing a package whose addon is missing half-registers its kernels and floods the console.
  if (!hasNativeAddon(pkg)) return { ok: false, detail: `${pkg} is installed but failed to load: its native addon (tfjs_binding.node) was not built; reinstall it where libtensorflow can be downloaded` };
  try {
    await import(pkg);
    const gpu = Boolean((tf.findBackend('tensorflow') as unknown as { isUsingGpuDevice?: boolean } | undefined)?.isUsingGpuDevice);
    return { ok: true, detail: `${pkg} loaded${gpu ? ' (GPU found)' : ''}`, gpu };
  } catch (e) {
    return { ok: false, detail: `${pkg} is installed but failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

async function activate(name: BackendName): Promise<BackendCandidate> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    const r = await tryNative(pkg);
    if (!r.ok) return { name, available: false, detail: r.detail };
    if (name === 'tensorflow-gpu' && !r.gpu) return { name, available: false, detail: `${pkg} loaded but sees no GPU` };
    const ok = await tf.setBackend('tensorflow');
    return { name, available: ok, detail: r.detail };
  }
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return { name, available: false, detail: `tf.setBackend('${name}') failed` };
    await tf.ready();
    if (name === 'wasm') {
      const added = registerWasmTrainingKernels();
      const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') as boolean;
      return { name, available: true, detail: `XNNPACK ${simd ? 'SIMD' : 'no SIMD'}, 1 thread; training kernels added: ${added.length}` };
    }
    return { name, available: true, detail: 'pure JavaScript (slow)' };
  } catch (e) {
    return { name, available: false, detail: (e as Error).message.split('\n')[0] };
  }
}

/**
 * Chooses and activates the TensorFlow.js backend, once per process: tfjs-node-gpu (with a GPU),
 * tfjs-node, wasm (SIMD), cpu — or the one forced by `opts.backend` / CXR_BACKEND.
 * Throws when a forced backend is not available, naming why.
 */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  let wanted = opts.backend ?? 'auto';
  let chosenBy = opts.chosenBy ?? 'auto';
  if (wanted === 'auto' && process.env.CXR_BACKEND) {
    wanted = parseBackendName(process.env.CXR_BACKEND, 'CXR_BACKEND');
    chosenBy = 'env CXR_BACKEND';
  }
  if (current && (wanted === 'auto' || wanted === current.backend)) return current;
  const order = wanted === 'auto' ? BACKEND_NAMES : [wanted];
  const candidates: BackendCandidate[] = [];
  for (const name of order) {
    const c = await activate(name);
    candidates.push(c);
    if (c.available) {
      current = describe(name, chosenBy, candidates);
      return current;
    }
  }
  const why = candidates.map((c) => `${c.name}: ${c.detail}`).join('; ');
  throw new Error(`no usable compute backend (${why}). Run \`cxr doctor\` for details, or choose another with --backend.`);
}

function describe(backend: BackendName, chosenBy: string, candidates: BackendCandidate[]): EngineInfo {
  const simd = backend === 'wasm' ? Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) : backend !== 'cpu';
  const threads = backend === 'wasm' || backend === 'cpu' ? 1 : os.availableParallelism();
  return { backend, chosenBy, tfjsVersion: tf.version_core, threads, simd, candidates };
}

/** The engine chosen by `initEngine`; throws if it has not run yet. */
export function engineInfo(): EngineInfo {
  if (!current) throw new Error('the compute engine is not initialised: call initEngine() first');
  return current;
}

/** Probes every backend without keeping any (for `cxr doctor`), then restores the active one. */
export async function probeBackends(): Promise<BackendCandidate[]> {
  const active = current?.backend;
  const out: BackendCandidate[] = [];
  for (const name of BACKEND_NAMES) out.push(await activate(name));
  if (active) await activate(active);
  return out;
}

/** One-line description of the engine for results and logs. */
export function engineLabel(info: EngineInfo): string {
  return `tfjs ${info.tfjsVersion} ${info.backend}${info.backend === 'wasm' ? (info.simd ? ' SIMD' : ' no-SIMD') : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`;
}
