/**
 * Lists kernels a training step needs that the wasm backend lacks. Each missing
 * kernel is temporarily backed by the cpu kernel (data copied across) so the
 * step can proceed and reveal the next one. Run WITHOUT our registrations:
 *   node --import tsx src-main/core/engine/wasm-kernels/discover-missing.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { buildModel, trainingLoss, type Arch } from './test-models.ts';

await tf.setBackend('cpu');
await tf.setBackend('wasm');
await tf.ready();
type Backend = { readSync(d: object): tf.backend_util.BackendValues; write(v: tf.backend_util.BackendValues, s: number[], d: tf.DataType): object };

function cpuFallback(name: string): void {
  const cpuKernel = tf.getKernel(name, 'cpu');
  if (!cpuKernel) throw new Error(`no cpu kernel for ${name}`);
  tf.registerKernel({
    kernelName: name, backendName: 'wasm', kernelFunc: ({ inputs, attrs, backend }) => {
      const cpu = tf.findBackend('cpu') as unknown as Backend & tf.KernelBackend;
      const wasm = backend as unknown as Backend;
      const cin: Record<string, tf.TensorInfo> = {};
      for (const [k, t] of Object.entries(inputs as Record<string, tf.TensorInfo>)) {
        cin[k] = { dataId: cpu.write(wasm.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
      }
      const out = cpuKernel.kernelFunc({ inputs: cin, attrs, backend: cpu }) as tf.TensorInfo;
      return { dataId: wasm.write(cpu.readSync(out.dataId), out.shape, out.dtype), shape: out.shape, dtype: out.dtype };
    },
  });
}

const found = new Set<string>();
async function retry(label: string, step: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try { await step(); return; } catch (e) {
      const m = /Kernel '(\w+)' not registered for backend 'wasm'/.exec(String((e as Error).message));
      if (!m) throw e;
      console.log(`${label}: missing ${m[1]}`);
      found.add(m[1]);
      cpuFallback(m[1]);
    }
  }
}

for (const arch of ['plain', 'batchnorm', 'separable'] as Arch[]) {
  const size = arch === 'plain' ? 46 : 16;
  const model = buildModel(arch, size);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const x = tf.randomUniform([4, size, size, 1]);
  const y = tf.tensor2d([0, 1, 1, 0], [4, 1]);
  await retry(`${arch} trainOnBatch`, () => model.trainOnBatch(x, y));
  const opt = tf.train.adam(1e-3);
  await retry(`${arch} minimize`, async () => opt.minimize(() => trainingLoss(model, x, y)));
}
console.log('missing on wasm:', [...found].join(', ') || '(none)');
