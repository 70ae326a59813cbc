import * as tfl from '@tensorflow/tfjs-layers';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { modelMetadataSchema } from '../../../src-shared/model-metadata-schema.ts';
import { writeDirAtomic, writeFileAtomic } from '../fs/atomic-write.ts';
import { shippedModelsDir, userModelsDir } from './paths.ts';
import '../interchange/custom-layers.ts';
import { loadLayersModelFromDir, readModelArtifacts, writeLayersModelToDir } from './tfjs-files.ts';

/** A model found on disk. */
export interface StoredModel {
  metadata: ModelMetadata;
  dir: string;
  source: 'shipped' | 'user';
}

/** A model folder that could not be read, and why. */
export interface BrokenModel {
  dir: string;
  reason: string;
}

/** Where to look for models. */
export interface StoreOptions {
  modelsDir?: string;
}

/** Reads and validates `metadata.json` in a model folder. */
export async function readMetadata(dir: string): Promise<ModelMetadata> {
  const file = path.join(dir, 'metadata.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read model metadata (${(e as Error).message})`);
  }
  const parsed = modelMetadataSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: invalid model metadata at "${issue?.path.join('.')}": ${issue?.message}`);
  }
  return parsed.data as ModelMetadata;
}

async function scanDir(root: string, source: StoredModel['source'], found: StoredModel[], broken: BrokenModel[]): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const dir = path.join(root, name);
    try {
      if (!(await fsp.stat(dir)).isDirectory()) continue;
      await fsp.access(path.join(dir, 'model.json'));
    } catch {
      continue;
    }
    try {
      found.push({ metadata: await readMetadata(dir), dir, source });
    } catch (e) {
      broken.push({ dir, reason: (e as Error).message });
    }
  }
}

/** Lists shipped and user models (user models first, so a user copy can shadow a shipped id). */
export async function listModels(opts: StoreOptions = {}): Promise<{ models: StoredModel[]; broken: BrokenModel[] }> {
  const models: StoredModel[] = [];
  const broken: BrokenModel[] = [];
  await scanDir(userModelsDir(opts.modelsDir), 'user', models, broken);
  await scanDir(shippedModelsDir(), 'shipped', models, broken);
  return { models, broken };
}

/** Finds a model by id (or by folder path); default id is "default". Throws listing what exists. */
export async function resolveModel(idOrPath: string | undefined, opts: StoreOptions = {}): Promise<StoredModel> {
  const wanted = idOrPath ?? 'default';
  if (wanted.includes('/') || wanted.includes(path.sep)) {
    const dir = path.resolve(wanted);
    return { metadata: await readMetadata(dir), dir, source: 'user' };
  }
  const { models } = await listModels(opts);
  const hit = models.find((m) => m.metadata.id === wanted);
  if (!hit) {
    const ids = models.map((m) => m.metadata.id).join(', ') || 'none';
    throw new Error(`model "${wanted}" not found (available: ${ids}; user models in ${userModelsDir(opts.modelsDir)}). Run \`cxr models\` to list them.`);
  }
  return hit;
}

/** Loads a stored model, refusing one whose weights do not match the sha256 in its metadata. */
export async function loadStoredModel(stored: StoredModel): Promise<tfl.LayersModel> {
  const { weightsSha256 } = await readModelArtifacts(stored.dir);
  if (weightsSha256 !== stored.metadata.weightsSha256) {
    throw new Error(`${stored.dir}: the weights do not match the sha256 in metadata.json (file damaged or altered); reinstall or re-import this model`);
  }
  const { model } = await loadLayersModelFromDir(stored.dir);
  return model;
}

/** Saves a model + metadata (+ optional extra files such as MODEL_CARD.md) atomically into `dir`. */
export async function saveModel(
  model: tfl.LayersModel,
  metadata: Omit<ModelMetadata, 'weightsSha256' | 'parameters'>,
  dir: string,
  extraFiles: Record<string, string> | ((full: ModelMetadata) => Record<string, string>) = {},
): Promise<ModelMetadata> {
  let full: ModelMetadata | null = null;
  await writeDirAtomic(dir, async (tmp) => {
    const storage = metadata.weightStorage?.dtype ?? 'float32';
    const { sha256: sha, stats } = await writeLayersModelToDir(model, tmp, storage);
    const weightStorage = storage === 'float32' ? undefined : { dtype: storage, quantizedTensors: stats.quantizedTensors, ...(storage === 'mixed' ? { uint16Tensors: stats.uint16Tensors } : {}), weightBytes: stats.bytesAfter, maxAbsError: Math.max(stats.maxAbsError, metadata.weightStorage?.maxAbsError ?? 0) };
    full = { ...metadata, weightsSha256: sha, parameters: model.countParams(), ...(weightStorage ? { weightStorage } : {}) } as ModelMetadata;
    checkMetadata(full!, dir);
    await fsp.writeFile(path.join(tmp, 'metadata.json'), JSON.stringify(full, null, 2) + '\n');
    const extras = typeof extraFiles === 'function' ? extraFiles(full!) : extraFiles;
    for (const [name, text] of Object.entries(extras)) await fsp.writeFile(path.join(tmp, name), text);
  });
  return full!;
}

/** Rewrites metadata.json of a stored model atomically (e.g. after evaluation adds metrics). */
export async function updateMetadata(dir: string, metadata: ModelMetadata): Promise<void> {
  checkMetadata(metadata, dir);
  await writeFileAtomic(path.join(dir, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
}

/** Throws, naming the model folder and the first bad field, when metadata does not match the schema. */
function checkMetadata(metadata: unknown, dir: string): void {
  const parsed = modelMetadataSchema.safeParse(metadata);
  if (parsed.success) return;
  const issue = parsed.error.issues[0];
  throw new Error(`${dir}: model not saved: its metadata is invalid at "${issue?.path.join('.')}": ${issue?.message}`);
}
