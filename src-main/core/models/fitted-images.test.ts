import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import { initEngine } from '../engine/backend.ts';
import { saveTinyModel, tempDir } from '../test-support.ts';
import { fittedHashes, modelFittedHashes } from './fitted-images.ts';

const tmp = tempDir();
before(() => initEngine({ backend: 'cpu' }));
after(() => tmp.cleanup());
const manifest = (fit: string[]) => ['part,label,sha256,path', ...fit.map((h) => `fit,NORMAL,${h},/d/${h}.jpeg`), 'selection,NORMAL,zz,/d/zz.jpeg', ''].join('\r\n');

test('fittedHashes reads only the fit part, and null without a manifest', () => {
  const dir = (name: string, csv: string | null) => {
    const d = path.join(tmp.dir, name);
    mkdirSync(d, { recursive: true });
    if (csv !== null) writeFileSync(path.join(d, 'training-data.csv'), csv);
    return d;
  };
  assert.deepEqual([...fittedHashes(dir('m1', manifest(['aa', 'bb'])))!].sort(), ['aa', 'bb']);
  assert.equal(fittedHashes(dir('m2', null)), null);
  assert.throws(() => fittedHashes(dir('m3', 'a,b\r\n1,2\r\n')), /m3.training-data\.csv: not a training-data manifest/);
});

test('modelFittedHashes: the selection part, less any image also fitted on, is what the model was selected on', async () => {
  const d = path.join(tmp.dir, 'sel');
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'training-data.csv'), `${manifest(['aa'])}selection,NORMAL,aa,/d/aa-copy.jpeg\r\n`);
  const r = await modelFittedHashes({ metadata: { id: 'sel' } as ModelMetadata, dir: d, source: 'user' });
  assert.deepEqual({ fit: [...r.hashes], selected: [...r.selected] }, { fit: ['aa'], selected: ['zz'] });
});

test('an ensemble without a manifest of its own is checked through its members in the store, naming any it cannot find', async () => {
  const store = path.join(tmp.dir, 'store');
  const a = await saveTinyModel(path.join(store, 'a'), 'a');
  writeFileSync(path.join(store, 'a', 'training-data.csv'), manifest(['aa']));
  const b = await saveTinyModel(path.join(store, 'b'), 'b');
  writeFileSync(path.join(store, 'b', 'training-data.csv'), manifest(['bb']));
  const member = (id: string, version: string) => ({ id, version }) as NonNullable<ModelMetadata['ensemble']>['members'][number];
  const metadata = { id: 'ens', ensemble: { members: [member('a', a.version), member('b', b.version), member('b', 'other'), member('gone', '1')] } } as unknown as ModelMetadata;
  const r = await modelFittedHashes({ metadata, dir: path.join(tmp.dir, 'ens-folder'), source: 'user' }, { modelsDir: store });
  assert.deepEqual([...r.hashes].sort(), ['aa', 'bb']);
  assert.deepEqual([...r.selected], ['zz'], 'the members\' selection images');
  assert.deepEqual(r.unchecked, ['member b vother (not in the model store)', 'member gone v1 (not in the model store)']);
  const plain = await modelFittedHashes({ metadata: { id: 'solo' } as ModelMetadata, dir: path.join(tmp.dir, 'solo'), source: 'user' }, { modelsDir: store });
  assert.deepEqual(plain, { hashes: new Set(), selected: new Set(), unchecked: ['solo (no training-data.csv)'] });
});
