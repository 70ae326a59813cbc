// Seeing inside the model: all activations + Grad-CAM from one multi-output pass, for one test-dev image,
// end to end (decode included), warm, on tfjs wasm; for the default model and for a 224×224
// MobileNetV2 transfer model (nsfwjs backbone + our head) unless the default already is one.
import { initEngine } from '../../src-main/core/engine/backend.ts';
import type { ActivationMap } from '../../src-shared/explain-types.ts';
import { explainImage } from '../../src-main/core/explain/explain-image.ts';
import { openExplainModel, type ExplainModel } from '../../src-main/core/explain/explain-model.ts';
import { buildTransferModel } from '../../src-main/core/transfer/backbone.ts';
import type { Network } from './networks.ts';
import { unavailableRow, type Row } from './rows.ts';
import { progress } from './timing.ts';

// What `cxr explain --layers all --gradcam` and the case viewer do: every map, kept in memory, and a Grad-CAM.
async function explainOnce(ref: ExplainModel, image: string): Promise<void> {
  const maps: ActivationMap[] = [];
  await explainImage(ref, image, (m) => void maps.push(m));
}

async function timeExplain(network: string, ref: ExplainModel, image: string, n: number): Promise<Row> {
  await explainOnce(ref, image);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await explainOnce(ref, image);
  const seconds = (performance.now() - t0) / 1000;
  progress(`${network} activations + Grad-CAM: ${(seconds / n).toFixed(2)} s/image`);
  return { network, engine: 'tfjs wasm', bench: 'activations + Grad-CAM', batch: 1, images: n, seconds, gflopPerImage: 0, note: `one image, warm, mean of ${n}` };
}

/** Explain rows; `image` is one full-resolution test-dev file. */
export async function explainRows(net: Network, image: string): Promise<Row[]> {
  await initEngine({ backend: 'wasm', chosenBy: 'bench' });
  const rows: Row[] = [];
  const ref = net.stored ? await openExplainModel(net.stored.dir) : { model: await net.load(), metadata: net.metadata };
  try {
    rows.push(await timeExplain(net.key, ref, image, 5));
  } finally {
    ref.model.dispose();
  }
  const md = net.metadata;
  if (/mobilenet/i.test(md.architecture) && md.input.width === 224) return rows;
  try {
    const tm = await buildTransferModel({ base: 'mobilenetv2', inputSize: 224, resize: 'crop', seed: 1 });
    const mref = { model: tm.model, metadata: { id: 'mobilenetv2-bench', input: tm.input, classNames: ['NORMAL', 'PNEUMONIA'], positiveClass: 'PNEUMONIA', output: 'sigmoid' as const, threshold: 0.5 } };
    try {
      rows.push(await timeExplain('MobileNetV2 224', mref, image, 3));
    } finally {
      tm.model.dispose();
    }
  } catch (e) {
    rows.push(unavailableRow('MobileNetV2 224', 'tfjs wasm', 'activations + Grad-CAM', (e as Error).message.split('\n')[0], 1));
  }
  return rows;
}
