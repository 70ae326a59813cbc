// Which images a stored model was fitted on, by content: from training-data.csv beside it, or for an
// ensemble from its members' (found in the model store by id and version). Used to refuse choosing a
// threshold or selecting on training images, and to flag evaluations that include them.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { parseCsv } from '../history/csv.ts';
import { DATA_MANIFEST_FILE } from '../training/data-manifest.ts';
import { listModels, type StoredModel, type StoreOptions } from './store.ts';

/** Content hashes of the images a model folder was fitted on (part "fit" of its manifest); null without a manifest. */
export function fittedHashes(modelDir: string): Set<string> | null {
  return readManifest(modelDir)?.fit ?? null;
}

/** The fit and selection parts of a model folder's manifest, as content hashes; null without a manifest. */
function readManifest(modelDir: string): { fit: Set<string>; selection: Set<string> } | null {
  const file = path.join(modelDir, DATA_MANIFEST_FILE);
  if (!existsSync(file)) return null;
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
  const part = header?.indexOf('part') ?? -1;
  const sha = header?.indexOf('sha256') ?? -1;
  if (part < 0 || sha < 0) throw new Error(`${file}: not a training-data manifest (expected columns part,label,sha256,path); restore it from the model's original folder`);
  const of = (name: string) => new Set(rows.filter((r) => r[part] === name).map((r) => r[sha]));
  return { fit: of('fit'), selection: of('selection') };
}

/**
 * The images `stored` was fitted on (`hashes`) and those it was selected on (`selected`: the epoch and threshold
 * were chosen on them; never also in `hashes`): its own manifest, or the union of its ensemble members' manifests.
 * `unchecked` names every model (or member) whose training data is not known, so callers can say so.
 */
export async function modelFittedHashes(stored: StoredModel, opts: StoreOptions = {}): Promise<{ hashes: Set<string>; selected: Set<string>; unchecked: string[] }> {
  const result = (fit: Set<string>, selection: Set<string>, unchecked: string[]) => ({ hashes: fit, selected: new Set([...selection].filter((h) => !fit.has(h))), unchecked });
  const own = readManifest(stored.dir);
  if (own) return result(own.fit, own.selection, []);
  const members = stored.metadata.ensemble?.members;
  if (!members) return result(new Set(), new Set(), [`${stored.metadata.id} (no ${DATA_MANIFEST_FILE})`]);
  const { models } = await listModels(opts);
  const fit = new Set<string>();
  const selection = new Set<string>();
  const unchecked: string[] = [];
  for (const m of members) {
    const found = models.find((s) => s.metadata.id === m.id && s.metadata.version === m.version);
    const manifest = found ? readManifest(found.dir) : null;
    if (manifest) {
      for (const h of manifest.fit) fit.add(h);
      for (const h of manifest.selection) selection.add(h);
    } else unchecked.push(`member ${m.id} v${m.version} (${found ? `no ${DATA_MANIFEST_FILE}` : 'not in the model store'})`);
  }
  return result(fit, selection, unchecked);
}

/** The paths of those images (parallel `sha256`/`paths` arrays) whose content is in `fitted`, in order. */
export function fittedPaths(fitted: ReadonlySet<string>, images: { sha256: readonly string[]; paths: readonly string[] }): string[] {
  return images.sha256.flatMap((h, i) => (fitted.has(h) ? [images.paths[i]] : []));
}

/** The split flags a model was trained with (`--seed S --holdout F --max-per-class N`, those recorded), or ''. */
export function splitFlags(md: ModelMetadata): string {
  const t = md.training;
  const h = t?.hyperparameters ?? {};
  return [
    t?.seed !== undefined ? `--seed ${t.seed}` : '',
    typeof h.holdoutFraction === 'number' ? `--holdout ${h.holdoutFraction}` : '',
    typeof h.maxPerClass === 'number' ? `--max-per-class ${h.maxPerClass}` : '',
  ].filter(Boolean).join(' ');
}
