import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { fittedHashes } from '../models/fitted-images.ts';
import { tempDir } from '../test-support.ts';
import { checkSelectionOverlap } from './selection-overlap.ts';

const tmp = tempDir();
after(() => tmp.cleanup());

/** A member folder with `csv` as its training-data.csv (none when null), as modelFittedHashes reads a plain model. */
function member(id: string, csv: string | null, training?: Partial<NonNullable<ModelMetadata['training']>>) {
  const dir = path.join(tmp.dir, id);
  mkdirSync(dir, { recursive: true });
  if (csv !== null) writeFileSync(path.join(dir, 'training-data.csv'), csv);
  const hashes = fittedHashes(dir);
  return { metadata: { id, training } as unknown as ModelMetadata, fitted: { hashes: hashes ?? new Set<string>(), unchecked: hashes ? [] : [`${id} (no training-data.csv)`] } };
}

const manifest = 'part,label,sha256,path\r\nfit,NORMAL,aa,/d/train/NORMAL/a.jpeg\r\nfit,PNEUMONIA,bb,/d/train/PNEUMONIA/b.jpeg\r\nselection,NORMAL,cc,/d/val/NORMAL/c.jpeg\r\n';
const selection = { sha256: ['cc', 'dd', 'bb'], paths: ['/d/val/NORMAL/c.jpeg', '/d/train/NORMAL/d.jpeg', '/d/train/PNEUMONIA/b.jpeg'] };

test('a member fitted on a selection image is refused, naming it, the count, an example and its split flags', () => {
  const m = member('leaky', manifest, { seed: 7, hyperparameters: { holdoutFraction: 0.15, maxPerClass: 12 } });
  assert.throws(() => checkSelectionOverlap([m], selection, 'data'),
    /member "leaky" was trained on 1 of the 3 selection images of data \(e\.g\. \/d\/train\/PNEUMONIA\/b\.jpeg\)[^]*--seed 7 --holdout 0\.15 --max-per-class 12; pass the same/);
});

test('a member selected (not fitted) on the same images passes; one without a manifest is reported, not refused', () => {
  const clean = member('clean', 'part,label,sha256,path\r\nfit,NORMAL,aa,/x\r\nselection,NORMAL,cc,/y\r\n');
  const unknown = member('imported', null);
  assert.deepEqual(checkSelectionOverlap([clean, unknown], selection, 'data'), ['member "imported": training data of imported (no training-data.csv) unknown, so whether it was trained on selection images cannot be checked']);
});

test('an .npz member is reported unless its --exclude-near folders cover the selection folder', () => {
  const npz = (id: string, excludedNear: unknown) => member(id, 'part,label,sha256,path\r\nfit,NORMAL,aa,/d/x.npz#train[0]\r\n', { dataRoot: '/d/x.npz', hyperparameters: { excludedNear } });
  const covered = npz('covered', [{ folder: '/data', images: 10, dropped: 9 }]);
  const partial = npz('partial', [{ folder: '/data/val', images: 4, dropped: 4 }]);
  const none = npz('none', undefined);
  const lines = checkSelectionOverlap([covered, partial, none], selection, '/data');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^member "partial" was trained on array images \(x\.npz\), which cannot match the selection files by content, without --exclude-near \/data/);
  assert.match(lines[1], /^member "none"/);
  assert.deepEqual(checkSelectionOverlap([covered], selection, '/data/sub'), []);
});

test('an .npz member that left out the selection set drawn the same way passes; drawn another way, it is reported', () => {
  const sel = member('sel', 'part,label,sha256,path\r\nfit,NORMAL,aa,/d/x.npz#train[0]\r\n', {
    dataRoot: '/d/x.npz', hyperparameters: { excludedNear: [{ folder: '/data', part: 'selection', seed: 42, holdout: 0.15, images: 251, dropped: 247 }] },
  });
  assert.deepEqual(checkSelectionOverlap([sel], selection, '/data', { seed: 42, holdoutFraction: 0.15 }), []);
  assert.equal(checkSelectionOverlap([sel], selection, '/data', { seed: 7, holdoutFraction: 0.15 }).length, 1);
  assert.equal(checkSelectionOverlap([sel], selection, '/data', { seed: 42, holdoutFraction: 0.15, maxPerClass: 12 }).length, 1);
  assert.equal(checkSelectionOverlap([sel], selection, '/data/sub', { seed: 42, holdoutFraction: 0.15 }).length, 1);
});
