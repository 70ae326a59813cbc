/**
 * The locked evaluation set: the content hashes of a folder set aside for release decisions
 * (`cxr lock-test`), kept in $CXR_HOME/locked-test.json. Its files may never be used to train or tune.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { scanDataset } from '../dataset/scan.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { cxrHome } from '../models/paths.ts';

const lockedSchema = z.object({
  schemaVersion: z.literal(1),
  folder: z.string(),
  created: z.string(),
  files: z.array(z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), label: z.string() })),
});

/** What `locked-test.json` holds. */
export type LockedTest = z.infer<typeof lockedSchema>;

/** Where the lock lives: $CXR_HOME/locked-test.json (or `file`). */
export function lockedTestFile(file?: string): string {
  return file ? path.resolve(file) : path.join(cxrHome(), 'locked-test.json');
}

/** Hashes every labelled image of `folder` and records them as the locked evaluation set. */
export async function lockTestFolder(folder: string, file?: string): Promise<LockedTest> {
  const root = path.resolve(folder);
  const scan = await scanDataset(root, { hash: true });
  const files = scan.items.filter((it) => it.label != null && it.sha256).map((it) => ({ path: it.path, sha256: it.sha256!, label: it.label! }));
  if (!files.length) throw new Error(`${root}: no labelled images found (expected NORMAL/ and PNEUMONIA/ sub-folders)`);
  if (scan.unreadable.length) throw new Error(`${scan.unreadable[0].path}: ${scan.unreadable[0].reason}; fix or remove it before locking the folder`);
  const locked: LockedTest = { schemaVersion: 1, folder: root, created: new Date().toISOString(), files };
  await writeFileAtomic(lockedTestFile(file), JSON.stringify(locked, null, 2) + '\n');
  return locked;
}

/** Reads the locked set, or null when none was recorded. Throws naming the file when it is damaged. */
export async function readLockedTest(file?: string): Promise<LockedTest | null> {
  const f = lockedTestFile(file);
  let text: string;
  try {
    text = await fsp.readFile(f, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${f}: cannot read the locked test set (${(e as Error).message})`);
  }
  const parsed = lockedSchema.safeParse((() => { try { return JSON.parse(text); } catch { return null; } })());
  if (!parsed.success) throw new Error(`${f}: not a valid locked test set; re-create it with \`cxr lock-test <folder>\``);
  return parsed.data;
}

/** The first of `items` whose content is in the locked set, or undefined. */
export function findLocked<T extends { sha256?: string }>(locked: LockedTest | null, items: readonly T[]): T | undefined {
  if (!locked) return undefined;
  const hashes = new Set(locked.files.map((f) => f.sha256));
  return items.find((it) => it.sha256 && hashes.has(it.sha256));
}
