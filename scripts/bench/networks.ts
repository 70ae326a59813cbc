// The networks the bench measures: the default model (whatever its metadata says it is) and issue
// #4's seed-like reference CNN (seeded random weights), both loadable on any tfjs backend.
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelMetadata } from '../../src-shared/types.ts';
import { flopsPerImage } from '../../src-main/core/models/flops.ts';
import { listModels, loadStoredModel, resolveModel, type StoredModel } from '../../src-main/core/models/store.ts';

export interface Network {
  /** Row key: the default model's id ('default'), or 'reference'. */
  key: string;
  /** e.g. "default v2026… (seed-cnn, 128×128×1)". */
  label: string;
  metadata: ModelMetadata;
  /** A fresh copy on the active tfjs backend (the caller disposes it). */
  load(): Promise<tfl.LayersModel>;
  /** Stored model (the default network only): what `cxr classify` can run. */
  stored?: StoredModel;
}

/** Forward GFLOP per image, nested models included (core's flopsPerImage counts one level). */
export function networkGflop(model: tfl.LayersModel): number {
  const walk = (m: tfl.LayersModel): number =>
    flopsPerImage(m) + m.layers.filter((l): l is tfl.LayersModel => l instanceof tfl.LayersModel).reduce((s, l) => s + walk(l), 0);
  return walk(model) / 1e9;
}

const shape = (md: ModelMetadata) => `${md.input.width}×${md.input.height}×${md.input.channels}`;

/**
 * The default model (or BENCH_MODEL), described from its metadata.json. When no model "default"
 * exists (e.g. while it is being replaced), the first shipped model stands in, named as such.
 */
export async function defaultNetwork(idOrPath?: string): Promise<Network> {
  let stored: StoredModel;
  let standIn = '';
  try {
    stored = await resolveModel(idOrPath ?? 'default');
  } catch (e) {
    const shipped = idOrPath ? undefined : (await listModels()).models.find((m) => m.source === 'shipped');
    if (!shipped) throw e;
    stored = shipped;
    standIn = ` — no model "default" found, so the shipped model "${shipped.metadata.id}" stands in`;
  }
  const md = stored.metadata;
  return { key: md.id, label: `${md.id} v${md.version} (${md.architecture}, ${shape(md)})${standIn}`, metadata: md, stored, load: () => loadStoredModel(stored) };
}

/**
 * Issue #4's reference: 4 × (Conv 3×3 + ReLU, MaxPool 2×2) with 32-64-128-128 filters, Flatten,
 * Dense 512 ReLU, Dense 1 sigmoid, on 128×128×1; Glorot-uniform weights from a fixed seed. With
 * `valid` padding (Keras's and PyTorch's default, as the seed study) it is 0.309 GFLOP/image counted
 * at each convolution's output positions (0.351 counted at its input positions, the issue's ≈ 0.35);
 * `same` padding gives 0.395.
 */
export function buildReferenceCnn(padding: 'valid' | 'same' = 'valid', seed = 42): tfl.Sequential {
  let s = seed;
  const init = () => tfl.initializers.glorotUniform({ seed: s++ });
  const m = tfl.sequential({ name: `reference_cnn_${padding}` });
  [32, 64, 128, 128].forEach((filters, i) => {
    m.add(tfl.layers.conv2d({
      ...(i === 0 ? { inputShape: [128, 128, 1] } : {}),
      filters, kernelSize: 3, padding, activation: 'relu', kernelInitializer: init(), name: `conv${i + 1}`,
    }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }));
  });
  m.add(tfl.layers.flatten({ name: 'flatten' }));
  m.add(tfl.layers.dense({ units: 512, activation: 'relu', kernelInitializer: init(), name: 'dense' }));
  m.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(), name: 'output' }));
  return m;
}

/** The reference CNN as a network (metadata enough for the predictors: input spec and sigmoid head). */
export function referenceNetwork(padding: 'valid' | 'same'): Network {
  const metadata = {
    schemaVersion: 1, id: 'reference', name: 'issue #4 seed-like reference CNN', version: 'bench', created: '',
    architecture: `reference-cnn (${padding} padding)`,
    input: { height: 128, width: 128, channels: 1, resize: 'crop', scaling: 'scale255' },
    classNames: ['NORMAL', 'PNEUMONIA'], positiveClass: 'PNEUMONIA', output: 'sigmoid', threshold: 0.5,
  } as ModelMetadata;
  return { key: 'reference', label: `reference CNN (4× conv 32-64-128-128, ${padding} padding, dense 512; 128×128×1; seeded random weights)`, metadata, load: async () => buildReferenceCnn(padding) };
}
