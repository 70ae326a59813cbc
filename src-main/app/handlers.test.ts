import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { contractEvents, type EventName } from '../../src-shared/contract.ts';
import { realData, tempDir, writeGreyDiagram } from '../core/test-support.ts';
import { shippedModelsDir } from '../core/models/paths.ts';

const data = realData();
const tmp = tempDir();
after(() => tmp.cleanup());
const noModel = existsSync(path.join(shippedModelsDir(), 'default', 'metadata.json')) ? false : 'shipped default model missing';

test('classify:start through the app door: every event matches the contract; a bad file and passed-over files are reported, the batch goes on', { skip: data.skip || noModel }, async () => {
  process.env.CXR_HOME = path.join(tmp.dir, 'home');
  const { handlers } = await import('./handlers.ts');
  const dir = path.join(tmp.dir, 'studies');
  await fsp.mkdir(dir, { recursive: true });
  const normal = path.join(data.dir, 'test-dev', 'NORMAL');
  const [a, b] = (await fsp.readdir(normal)).sort();
  await fsp.copyFile(path.join(normal, a), path.join(dir, 'a.jpeg'));
  const bytes = await fsp.readFile(path.join(normal, b));
  await fsp.writeFile(path.join(dir, 'cut.jpeg'), bytes.subarray(0, bytes.length >> 1));
  await fsp.copyFile(path.join(data.dir, 'dicom', 'derived-kermany-sc', 'NORMAL_IM-0133-0001.dcm'), path.join(dir, 'study.dcm'));
  const diagram = path.join(dir, 'diagram.png');
  await writeGreyDiagram(diagram);

  const run = (req: { paths: string[]; allowUnfamiliar?: boolean }) => {
    const events: Array<{ name: EventName; payload: unknown }> = [];
    const done = new Promise<Record<string, unknown>>((resolve) => {
      const emit = (name: EventName, payload: unknown) => {
        contractEvents[name].parse(payload); // the renderer gets only what the contract says
        events.push({ name, payload });
        if (name === 'classify:done') resolve(payload as Record<string, unknown>);
      };
      void handlers['classify:start'](req, emit as never).then((r) => assert.deepEqual(Object.keys(r as object).sort(), ['jobId', 'total']));
    });
    return done.then((end) => ({ end, events }));
  };
  const { end, events } = await run({ paths: [dir] });
  assert.equal(end.classified, 1);
  assert.equal(end.failed, 2);
  assert.equal(end.cancelled, false);
  assert.match(String(end.notRead), /^1 file that is not \.jpg\/\.jpeg\/\.png \(1 \.dcm; DICOM is not read by this version/);
  const failures = events.filter((e) => e.name === 'classify:failure').map((e) => e.payload as { path: string; code: string });
  assert.deepEqual(failures.map((f) => [path.basename(f.path), f.code]).sort(), [['cut.jpeg', 'TRUNCATED'], ['diagram.png', 'UNFAMILIAR']]);
  const results = events.filter((e) => e.name === 'classify:result').map((e) => e.payload as { path: string; label: string });
  assert.deepEqual(results.map((r) => path.basename(r.path)), ['a.jpeg']);
  // The app may score such an image on request; the result says why it is suspect.
  const allowed = await run({ paths: [diagram], allowUnfamiliar: true });
  assert.equal(allowed.end.classified, 1);
  const [scored] = allowed.events.filter((e) => e.name === 'classify:result').map((e) => e.payload as { unfamiliar?: string });
  assert.match(String(scored.unfamiliar), /^distance 0\.\d{3} from the images model default was trained on, limit 0\.377$/);
});
