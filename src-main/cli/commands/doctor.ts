import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import sharp from 'sharp';
import type { Command } from '../command.ts';
import { engineFromFlags, engineOptions, parse } from '../common.ts';
import { engineLabel } from '../../core/engine/backend.ts';
import { WASM_KERNEL_OVERRIDES, WASM_TRAINING_KERNELS } from '../../core/engine/wasm-kernels/index.ts';
import { cxrHome, sharedDataDir, shippedModelsDir, userModelsDir } from '../../core/models/paths.ts';
import { listModels } from '../../core/models/store.ts';
import { defaultOrtThreads, ortVersion } from '../../core/onnx/ort-session.ts';

const require = createRequire(import.meta.url);
const version = (pkg: string) => {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
};

export const doctorCommand: Command = {
  name: 'doctor',
  usage: 'usage: cxr doctor [--backend NAME] [--models-dir DIR] [--json]',
  async run(argv, io) {
    const { values } = parse(argv, { ...engineOptions, json: { type: 'boolean' } }, false);
    const engine = await engineFromFlags(values.backend);
    const { models, broken } = await listModels({ modelsDir: values['models-dir'] });
    const ort = await ortVersion().catch(() => null);
    const report = {
      inferenceEngines: {
        tfjs: `tfjs ${engine.tfjsVersion} ${engine.backend}`,
        onnxruntime: ort ? `onnxruntime-node ${ort} cpu, ${defaultOrtThreads()} threads (used by classify --engine auto for models that export to ONNX)` : 'onnxruntime-node not available: classify uses TensorFlow.js',
      },
      engine,
      machine: { platform: `${os.platform()} ${os.arch()}`, cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? '?', memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version },
      versions: {
        '@tensorflow/tfjs-core': version('@tensorflow/tfjs-core'),
        '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
        '@tensorflow/tfjs-node': version('@tensorflow/tfjs-node'),
        '@tensorflow/tfjs-node-gpu': version('@tensorflow/tfjs-node-gpu'),
        sharp: sharp.versions.sharp ?? version('sharp'),
        libvips: sharp.versions.vips,
        'better-sqlite3': version('better-sqlite3'),
      },
      wasmTrainingKernels: WASM_TRAINING_KERNELS,
      wasmKernelOverrides: WASM_KERNEL_OVERRIDES,
      folders: { home: cxrHome(), userModels: userModelsDir(values['models-dir']), shippedModels: shippedModelsDir(), data: sharedDataDir(), dataPresent: existsSync(sharedDataDir()) },
      models: models.map((m) => ({ id: m.metadata.id, version: m.metadata.version, source: m.source, dir: m.dir })),
      brokenModels: broken,
    };
    if (values.json) {
      io.out(JSON.stringify(report, null, 2));
      return 0;
    }
    io.out(`backend:   ${engineLabel(engine)} (chosen by ${engine.chosenBy})`);
    for (const c of engine.candidates) io.out(`  ${c.available ? 'ok  ' : 'no  '} ${c.name.padEnd(15)} ${c.detail}`);
    io.out(`inference: ${report.inferenceEngines.onnxruntime}`);
    io.out(`wasm kernels added by CXR: ${WASM_TRAINING_KERNELS.join(', ')} (missing in tfjs); faster versions of ${WASM_KERNEL_OVERRIDES.join(', ')}`);
    io.out(`machine:   ${report.machine.platform}, ${report.machine.cpus} cores (${report.machine.cpuModel}), ${report.machine.memoryGiB} GiB, Node ${process.version}`);
    io.out('versions:');
    for (const [k, v] of Object.entries(report.versions)) io.out(`  ${k.padEnd(30)} ${v}`);
    io.out('folders:');
    io.out(`  home (CXR_HOME)    ${report.folders.home}`);
    io.out(`  user models        ${report.folders.userModels}`);
    io.out(`  shipped models     ${report.folders.shippedModels}`);
    io.out(`  data (CXR_DATA)    ${report.folders.data}${report.folders.dataPresent ? '' : ' (absent)'}`);
    io.out(`models (${models.length}):`);
    for (const m of models) io.out(`  ${m.metadata.id.padEnd(16)} v${m.metadata.version} ${m.source.padEnd(8)} ${m.dir}`);
    for (const b of broken) io.out(`  BROKEN ${b.dir}: ${b.reason}`);
    return 0;
  },
};
