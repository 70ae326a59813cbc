// GPUs: is there an NVIDIA GPU, is onnxruntime-node's CUDA provider installed, and an onnxruntime
// CUDA session as a Predictor. Everything here works offline and reports what is missing.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ModelMetadata } from '../../src-shared/types.ts';
import { familiarityCenter, scoresFromRows, type Predictor } from '../../src-main/core/inference/predictor.ts';
import { loadOrt } from '../../src-main/core/onnx/ort-session.ts';

const require = createRequire(import.meta.url);

/** The NVIDIA GPU(s) nvidia-smi lists, or why none was found. */
export function nvidiaGpus(): { found: boolean; detail: string } {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { found: false, detail: existsSync('/proc/driver/nvidia/version') ? 'NVIDIA driver loaded but nvidia-smi failed' : 'no NVIDIA GPU (no nvidia-smi)' };
  const names = r.stdout.trim().split('\n').filter(Boolean);
  return names.length && r.status === 0 ? { found: true, detail: names.join('; ') } : { found: false, detail: `nvidia-smi: ${(r.stderr || r.stdout).trim().split('\n')[0] || 'no GPU listed'}` };
}

/** Where onnxruntime-node keeps its native libraries on this platform. */
function ortBinDir(): string | null {
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/** What installCarriedOrtCuda did. */
export interface CarriedInstall {
  copied: string[];
  detail: string;
}

/**
 * Installs onnxruntime-node's CUDA provider from files carried with the working tree (nothing is downloaded):
 * every shared library in `carried` (default `gpu-files/onnxruntime-cuda/`, or `$CXR_GPU_FILES/onnxruntime-cuda`)
 * is copied beside onnxruntime-node's binding (`binDir`) unless an identical-size copy is there already; each copy
 * is written to a temporary name first and renamed, so an interrupted copy never leaves a half library.
 */
export function installCarriedOrtCuda(carried: string, binDir: string | null = ortBinDir()): CarriedInstall {
  if (!existsSync(carried)) return { copied: [], detail: `no carried GPU files (${carried} is absent)` };
  if (!binDir || !existsSync(binDir)) return { copied: [], detail: `onnxruntime-node's native folder was not found, so ${carried} was not installed` };
  const libs = readdirSync(carried).filter((f) => /\.(so(\.\d+)*|dll)$/.test(f) && statSync(path.join(carried, f)).isFile());
  const copied: string[] = [];
  for (const f of libs) {
    const from = path.join(carried, f);
    const to = path.join(binDir, f);
    if (existsSync(to) && statSync(to).size === statSync(from).size) continue;
    const tmp = `${to}.${process.pid}.tmp`;
    copyFileSync(from, tmp);
    renameSync(tmp, to);
    copied.push(f);
  }
  const have = libs.length - copied.length;
  return { copied, detail: `${carried}: ${copied.length} librar${copied.length === 1 ? 'y' : 'ies'} installed beside onnxruntime-node's binding${have ? `, ${have} already there` : ''}${libs.length ? '' : ' (the folder holds no .so/.dll files)'}` };
}

/** The carried onnxruntime CUDA folder: `$CXR_GPU_FILES/onnxruntime-cuda`, else `gpu-files/onnxruntime-cuda` in the repository. */
export function carriedOrtCudaDir(repoRoot: string): string {
  return path.join(process.env.CXR_GPU_FILES ? path.resolve(process.env.CXR_GPU_FILES) : path.join(repoRoot, 'gpu-files'), 'onnxruntime-cuda');
}

/** Whether onnxruntime-node's CUDA execution provider library is installed (it is not bundled in the npm package). */
export function ortCudaProvider(): { present: boolean; detail: string } {
  const dir = ortBinDir();
  if (!dir) return { present: false, detail: 'onnxruntime-node is not installed' };
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (existsSync(path.join(dir, lib))) return { present: true, detail: `${lib} in ${dir}` };
  return {
    present: false,
    detail: `onnxruntime-node's CUDA provider is not installed (no ${lib} beside its binding; see bench/README.md)`,
  };
}

/** An onnxruntime session on the CUDA provider only (no silent CPU fallback) as a Predictor. */
export async function onnxCudaPredictor(onnx: Uint8Array, md: ModelMetadata): Promise<Predictor> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['cuda'], graphOptimizationLevel: 'all' });
  const { height, width, channels } = md.input;
  const center = familiarityCenter(md);
  return {
    engine: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common} cuda`,
    async predict(batch, n) {
      const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', batch, [n, height, width, channels]) });
      return scoresFromRows(result[session.outputNames[0]].data as Float32Array, n, md, center);
    },
    dispose() {
      session.release().catch(() => undefined);
    },
  };
}
