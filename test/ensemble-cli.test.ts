// End to end: `cxr train` on a MedMNIST .npz, `cxr ensemble` of it with a folder-trained model, then
// classify and ONNX export of the ensemble, on tiny seeded subsets of the real data.
import assert from 'node:assert/strict';
import { promises as fsp, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { ModelMetadata } from '../src-shared/types.ts';
import { npzBytes } from '../src-main/core/dataset/npz-fixture.ts';
import { readNpz } from '../src-main/core/dataset/npz.ts';
import { realData, tempDir } from '../src-main/core/test-support.ts';
import { cxr, parseCsvObjects } from './cli.ts';

const data = realData();
const tmp = tempDir();
const env = { CXR_HOME: path.join(tmp.dir, 'home') };
after(() => tmp.cleanup());
const metadataOf = (id: string) => JSON.parse(readFileSync(path.join(env.CXR_HOME, 'models', id, 'metadata.json'), 'utf8')) as ModelMetadata;

/** The first `n` rows of a real PneumoniaMNIST split, as uint8. */
function rows(npz: Awaited<ReturnType<typeof readNpz>>, name: string, n: number, size: number) {
  return { data: Uint8Array.from(npz[name].data.subarray(0, n * size)), shape: [n, ...npz[name].shape.slice(1)] };
}

test('train on a PneumoniaMNIST subset, combine it with a 56 px model, classify and export the ensemble', { skip: data.skip }, async () => {
  const full = await readNpz(path.join(data.dir, 'pneumoniamnist', 'pneumoniamnist-trainval.npz'));
  const sub = path.join(tmp.dir, 'sub.npz');
  await fsp.writeFile(sub, npzBytes({
    train_images: rows(full, 'train_images', 96, 784), train_labels: rows(full, 'train_labels', 96, 1),
    val_images: rows(full, 'val_images', 32, 784), val_labels: rows(full, 'val_labels', 32, 1),
  }));
  const small = ['--epochs', '1', '--seed', '7', '--workers', '1'];
  const p = await cxr(['train', sub, '--id', 'p28', '--architecture', 'bn-cnn', '--filters', '8,16', '--dense-units', '8', '--exclude-near', path.join(data.dir, 'val'), ...small], env);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stderr, /left out \d+ array images nearest to the 16 images of .*val/);
  const pm = metadataOf('p28');
  assert.deepEqual(pm.input, { height: 28, width: 28, channels: 1, resize: 'crop', scaling: 'scale255' });
  assert.match(pm.thresholdChosenBy, /val_\* arrays/);
  assert.deepEqual((pm.training?.hyperparameters.architectureOptions as Record<string, unknown>).filters, [8, 16]);
  assert.equal(pm.training?.hyperparameters.holdoutFraction, undefined, 'an .npz run selects on val_*, not on a hold-out');
  assert.match(String(pm.training?.hyperparameters.selection), /val_\* arrays/);
  // A locked test set is kept out of .npz training data without being named.
  const lockedHome = { CXR_HOME: path.join(tmp.dir, 'locked-home') };
  assert.equal((await cxr(['lock-test', path.join(data.dir, 'val')], lockedHome)).code, 0);
  const l = await cxr(['train', sub, '--id', 'p28', '--architecture', 'bn-cnn', '--filters', '8,16', '--dense-units', '8', ...small], lockedHome);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stderr, /the locked test set's folder .*val is excluded too[^]*left out \d+ array images nearest to the 16 images of .*val/);
  const badSize = await cxr(['train', sub, '--id', 'x', '--input-size', '64', ...small], env);
  assert.equal(badSize.code, 1);
  assert.match(badSize.stderr, /holds 28×28 images; leave out --input-size or give 28/);

  // --exclude-near-selection keeps out only the selection set of a data folder (drawn with this run's seed and hold-out).
  const ps = await cxr(['train', sub, '--id', 'p28sel', '--architecture', 'bn-cnn', '--filters', '8,16', '--dense-units', '8', '--exclude-near-selection', data.dir, ...small], env);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stderr, /left out \d+ array images nearest to the 251 selection images of .*data \(seed 7, hold-out 0\.15\)/);
  assert.deepEqual(Object.keys((metadataOf('p28sel').training?.hyperparameters.excludedNear as object[])[0]).sort(), ['dropped', 'folder', 'holdout', 'images', 'part', 'seed']);
  const pe = await cxr(['ensemble', 'p28sel', 'p28', '--id', 'pp', '--select', data.dir, '--seed', '7'], env);
  assert.equal(pe.code, 0, pe.stderr);
  assert.doesNotMatch(pe.stderr, /member "p28sel" was trained on array images/);
  assert.match(pe.stderr, /member "p28" was trained on array images/);

  const t = await cxr(['train', data.dir, '--id', 'tiny56', '--max-per-class', '12', '--input-size', '56', ...small], env);
  assert.equal(t.code, 0, t.stderr);
  // tiny56 was fitted on part of train/ split with seed 7: the default seed's selection set holds some of those images.
  const leaky = await cxr(['ensemble', 'tiny56', 'p28', '--id', 'ens', '--select', data.dir], env);
  assert.equal(leaky.code, 1, leaky.stderr);
  assert.match(leaky.stderr, /member "tiny56" was trained on \d+ of the 251 selection images of .*data \(e\.g\. .*train.*\.jpe?g\)[^]*--seed 7 --holdout 0\.15 --max-per-class 12; pass the same/);
  const e = await cxr(['ensemble', 'tiny56', 'p28', '--id', 'ens', '--name', 'Tiny ensemble', '--select', data.dir, '--seed', '7', '--max-per-class', '12'], env);
  assert.equal(e.code, 0, e.stderr);
  // p28 kept only val/ away (--exclude-near …/val); the selection set also holds a hold-out of train/.
  assert.match(e.stderr, /member "p28" was trained on array images \(sub\.npz\), which cannot match the selection files by content, without --exclude-near .*data: copies of selection images/);
  assert.match(e.stderr, /selection tiny56: AUC 0\.\d+, Brier 0\.\d+\nselection p28: AUC 0\.\d+, Brier 0\.\d+\nselection ensemble: AUC 0\.\d+, Brier 0\.\d+ \((\d+) images: hold-out \d+ of train \+ val 16\)/);
  // With the member's own split, the selection set is exactly the one it was selected on.
  assert.equal(Number(/Brier 0\.\d+ \((\d+) images/.exec(e.stderr)?.[1]), metadataOf('tiny56').training?.data?.selection.files);
  const md = metadataOf('ens');
  assert.deepEqual(md.input, { height: 56, width: 56, channels: 1, resize: 'crop', scaling: 'scale255' });
  assert.deepEqual(md.ensemble?.members.map((m) => m.id), ['tiny56', 'p28']);
  assert.match(md.thresholdChosenBy, /selection set of .*data/);
  // Brier scores are of probabilities (a member's logit goes through the sigmoid first), so each lies in [0, 1].
  const briers = [...e.stderr.matchAll(/Brier (\d+\.\d+)/g)].map((m) => Number(m[1]));
  assert.equal(briers.length, 3);
  for (const b of briers) assert.ok(b >= 0 && b <= 1, e.stderr);
  assert.match(md.notes ?? '', /ensemble AUC 0\.\d+, Brier 0\.\d+\.$/);
  const card = readFileSync(path.join(env.CXR_HOME, 'models', 'ens', 'MODEL_CARD.md'), 'utf8');
  assert.match(card, /## Ensemble[\s\S]*\| `p28` \|[\s\S]*npx cxr ensemble tiny56 p28 --id ens --name 'Tiny ensemble' --select \S+ --seed 7 --max-per-class 12/);

  const c = await cxr(['classify', path.join(data.dir, 'val'), '--model', 'ens', '--engine', 'tfjs'], env);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout.trim().split('\n').length, 16);
  const x = await cxr(['export', 'ens', '--onnx'], env);
  assert.equal(x.code, 0, x.stderr);
  assert.match(x.stderr, /max \|onnxruntime − TensorFlow\.js\| = \S+ \(limit 1e-4\)/);

  // 8-bit weights: built that way by cxr ensemble --weights, or a stored model copied by cxr quantize; both
  // round the same float weights, so they score alike, and scores are those of the stored files.
  const split = ['--select', data.dir, '--seed', '7', '--max-per-class', '12'];
  const e8 = await cxr(['ensemble', 'tiny56', 'p28', '--id', 'ens8', '--weights', 'uint8', ...split], env);
  assert.equal(e8.code, 0, e8.stderr);
  assert.match(e8.stderr, /\d+ kernels as uint8: weights \S+ MB → \S+ MB/);
  const q = await cxr(['quantize', 'ens', '--id', 'ens-q8', ...split], env);
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stdout, /saved model ens-q8 v\S+ to .*ens-q8 \(weights \d+\.\d MB, uint8\)/);
  const ensembleScore = /selection ensemble: (AUC \S+, Brier \S+)/.exec(e8.stderr)?.[1];
  assert.ok(ensembleScore, e8.stderr);
  assert.match(q.stderr, new RegExp(`selection, float32: ${/selection ensemble: (AUC \S+, Brier \S+)/.exec(e.stderr)?.[1]}; uint8: ${ensembleScore}; largest change of P \\d\\.\\d+, \\d+ of \\d+ labels changed`));
  const [m8, q8] = [metadataOf('ens8'), metadataOf('ens-q8')];
  for (const m of [m8, q8]) {
    assert.equal(m.weightStorage?.dtype, 'uint8');
    assert.equal(m.weightStorage?.weightBytes, statSync(path.join(env.CXR_HOME, 'models', m.id, 'weights.bin')).size);
    assert.ok(m.weightStorage!.weightBytes! < statSync(path.join(env.CXR_HOME, 'models', 'ens', 'weights.bin')).size / 2);
  }
  assert.equal(q8.threshold, md.threshold, 'the copy keeps the threshold');
  assert.ok(q8.thresholdChosenBy.startsWith(md.thresholdChosenBy), q8.thresholdChosenBy);
  assert.match(q8.thresholdChosenBy, /\[rates of the float32 original; this uint8 copy, at the same threshold on that selection set \(\d+ images\): sensitivity \d\.\d{3}, specificity \d\.\d{3}\]$/);
  assert.match(q8.notes ?? '', /^Quantised copy of ens v\S+ .* labels changed at the threshold\./);
  assert.match(readFileSync(path.join(env.CXR_HOME, 'models', 'ens-q8', 'MODEL_CARD.md'), 'utf8'), /Weights stored as 8-bit integers/);
  const c8 = await cxr(['classify', path.join(data.dir, 'val'), '--model', 'ens-q8'], env);
  assert.equal(c8.code, 0, c8.stderr);
  assert.equal(c8.stdout.trim().split('\n').length, 16);
  assert.doesNotMatch(q.stderr, /selection images were used to fit/);
  // Scored on a selection set its members were fitted on (the default seed): said, by content, through the members.
  const leakyQ = await cxr(['quantize', 'ens', '--id', 'ens-q8b', '--select', data.dir], env);
  assert.equal(leakyQ.code, 0, leakyQ.stderr);
  assert.match(leakyQ.stderr, /warning: \d+ selection images were used to fit ens; give the --seed, --holdout and --max-per-class it was trained with/);
  const requant = await cxr(['quantize', 'ens-q8', '--id', 'again'], env);
  assert.equal(requant.code, 1);
  assert.match(requant.stderr, /already stored as uint8; quantise the float32 model it came from/);
  const badTo = await cxr(['quantize', 'ens', '--id', 'x', '--to', 'float32'], env);
  assert.equal(badTo.code, 1);
  assert.match(badTo.stderr, /--to must be uint8, uint16 or mixed \(got "float32"\)/);
  const badWeights = await cxr(['ensemble', 'tiny56', 'p28', '--id', 'x', '--weights', 'int4'], env);
  assert.equal(badWeights.code, 1);
  assert.match(badWeights.stderr, /--weights must be float32, uint8, uint16 or mixed \(got "int4"\)/);

  // --source-form: full-resolution originals (val/) are first brought to the training images' form (≤ 512 px, JPEG q90).
  const sf = await cxr(['ensemble', 'tiny56', 'p28', '--id', 'ens-sf', '--source-form', '512:90'], env);
  assert.equal(sf.code, 0, sf.stderr);
  assert.match(sf.stderr, /larger images first shrunk to 512 px and JPEG q90 round-tripped/);
  assert.deepEqual(metadataOf('ens-sf').input.sourceForm, { maxSide: 512, jpegQuality: 90 });
  assert.match(readFileSync(path.join(env.CXR_HOME, 'models', 'ens-sf', 'MODEL_CARD.md'), 'utf8'), /long side exceeds 512 px is first shrunk to 512 px and round-tripped through JPEG quality 90/);
  const probs = async (id: string) => {
    const out = path.join(tmp.dir, `${id}.csv`);
    const r = await cxr(['classify', path.join(data.dir, 'val'), '--model', id, '--engine', 'tfjs', '--out', out], env);
    assert.equal(r.code, 0, r.stderr);
    return new Map(parseCsvObjects(readFileSync(out, 'utf8')).map((row) => [row.path, Number(row.probability)]));
  };
  const [plain, formed] = [await probs('ens'), await probs('ens-sf')];
  assert.equal(formed.size, 16);
  const moved = [...formed].filter(([f, v]) => Math.abs(v - plain.get(f)!) > 1e-6).length;
  assert.ok(moved > 0, 'the pre-step changes what the model sees of a full-resolution original');
  const badForm = await cxr(['ensemble', 'tiny56', 'p28', '--id', 'x', '--source-form', '512'], env);
  assert.equal(badForm.code, 1);
  assert.match(badForm.stderr, /--source-form must be LONG-SIDE:JPEG-QUALITY, e\.g\. 512:90/);

  const one = await cxr(['ensemble', 'p28', '--id', 'solo'], env);
  assert.equal(one.code, 1);
  assert.match(one.stderr, /at least two models/);
  const twice = await cxr(['ensemble', 'p28', 'p28', '--id', 'dup'], env);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /the same model is named twice/);
});

test('members trained with different --tone each get their own channel; mixed 8/16-bit storage; classify and export', { skip: data.skip }, async () => {
  // Needs tiny56 and p28 from the test above (same CXR_HOME).
  const small = ['--epochs', '1', '--seed', '7', '--workers', '1'];
  const t = await cxr(['train', data.dir, '--id', 'tiny56e', '--max-per-class', '12', '--input-size', '56', '--tone', 'equalize', ...small], env);
  assert.equal(t.code, 0, t.stderr);
  const e = await cxr(['ensemble', 'tiny56e', 'p28', 'tiny56', '--id', 'ens-tone', '--weights', 'mixed', '--select', data.dir, '--seed', '7', '--max-per-class', '12'], env);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stderr, /input 56×56×3 \(grey; channel tones equalize, none, equalize\)/);
  assert.match(e.stderr, /\d+ kernels as uint8 and \d+ as uint16 \(8 bits would lose over 0\.5 % of them\)/);
  const md = metadataOf('ens-tone');
  assert.deepEqual(md.input, { height: 56, width: 56, channels: 3, resize: 'crop', scaling: 'scale255', toneByChannel: ['equalize', 'none', 'equalize'] });
  assert.equal(md.weightStorage?.dtype, 'mixed');
  assert.equal(md.weightStorage?.weightBytes, statSync(path.join(env.CXR_HOME, 'models', 'ens-tone', 'weights.bin')).size);
  const card = readFileSync(path.join(env.CXR_HOME, 'models', 'ens-tone', 'MODEL_CARD.md'), 'utf8');
  assert.match(card, /each channel holds the grey image with its own tone \(histogram-equalized, as decoded, histogram-equalized\)/);
  assert.match(card, /Weights stored as 8- and 16-bit integers: \d+ kernels \(\d+ of them in 16 bits/);
  // Each member is scored on the selection set inside the ensemble (that each reads its own tone channel is
  // checked in build-ensemble.test.ts, the stacking of the channels in preprocess.test.ts).
  assert.match(e.stderr, /selection tiny56e: AUC 0\.\d+, Brier 0\.\d+\nselection p28: AUC[^\n]*\nselection tiny56: AUC[^\n]*\nselection ensemble: AUC/);
  const list = await cxr(['models'], env);
  assert.match(list.stdout, /input 56×56×3 scale255 channel tones equalize\/none\/equalize, threshold/);
  assert.match(list.stdout, /input 56×56×1 scale255 tone equalize, threshold/);
  const c = await cxr(['classify', path.join(data.dir, 'val'), '--model', 'ens-tone', '--engine', 'tfjs'], env);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout.trim().split('\n').length, 16);
  const x = await cxr(['export', 'ens-tone', '--onnx'], env);
  assert.equal(x.code, 0, x.stderr);
  assert.match(x.stderr, /max \|onnxruntime − TensorFlow\.js\| = \S+ \(limit 1e-4\)/);
});
