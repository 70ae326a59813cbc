import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { tempDir } from '../test-support.ts';
import { describeFormSignal, FORM_SIGNAL_FLAG, formSignals, readFileForms, signalsOfForms, traitVisibility, type FileForm } from './form-signals.ts';

const tmp = tempDir('cxr-form-');
after(() => tmp.cleanup());

function form(label: string, width: number, height: number, bytes = 1000, channels = 1, split = 'train'): FileForm {
  return { path: `${label}-${width}x${height}`, split, label, width, height, bytes, channels };
}

test('a trait that splits the classes perfectly is flagged, with its direction and medians', () => {
  const forms = [
    ...[120, 121, 122, 123, 124].map((w) => form('NORMAL', w, 100, 5000)),
    ...[150, 151, 152, 153, 154].map((w) => form('PNEUMONIA', w, 100, 5000)),
  ];
  const [r] = formSignals(forms);
  assert.equal(r.split, 'train');
  assert.deepEqual(r.counts, { NORMAL: 5, PNEUMONIA: 5 });
  const aspect = r.signals.find((s) => s.trait === 'aspect ratio')!;
  assert.equal(aspect.auc, 1);
  assert.equal(aspect.separation, 1);
  assert.equal(aspect.higherIn, 'PNEUMONIA');
  assert.deepEqual(aspect.medians, { NORMAL: 1.22, PNEUMONIA: 1.52 });
  assert.ok(aspect.flagged);
  // Equal everywhere: ties count one half, so AUC 0.5 and nothing to flag.
  const size = r.signals.find((s) => s.trait === 'file size')!;
  assert.equal(size.auc, 0.5);
  assert.equal(size.higherIn, null);
  assert.equal(size.flagged, false);
});

test('a trait higher in the negative class separates as well as one higher in the positive class', () => {
  const forms = [
    ...[1, 2, 3, 4, 5].map((i) => form('NORMAL', 100, 100, 9000 + i)),
    ...[1, 2, 3, 4, 5].map((i) => form('PNEUMONIA', 100, 100, 1000 + i)),
  ];
  const size = formSignals(forms)[0].signals.find((s) => s.trait === 'file size')!;
  assert.equal(size.auc, 0);
  assert.equal(size.separation, 1);
  assert.equal(size.higherIn, 'NORMAL');
});

test('the flag starts at FORM_SIGNAL_FLAG', () => {
  const heights = (n: number[], p: number[]) => formSignals([...n.map((h) => form('NORMAL', 100, h)), ...p.map((h) => form('PNEUMONIA', 100, h))])[0].signals.find((s) => s.trait === 'height')!;
  const above = heights([1, 2, 5, 6, 7], [3, 4, 8, 9, 10]); // 19 of 25 pairs ordered
  assert.equal(above.auc, 0.76);
  assert.ok(FORM_SIGNAL_FLAG <= 0.76 && above.flagged);
  const below = heights([1, 2, 5, 6, 8], [3, 4, 7, 9, 10]); // 18 of 25
  assert.equal(below.auc, 0.72);
  assert.equal(below.flagged, false);
});

test('splits with one class, a third class or too few images are not judged; other labels name the positive class by order', () => {
  const few = [form('NORMAL', 1, 1, 1, 1, 'val'), form('PNEUMONIA', 2, 1, 1, 1, 'val')];
  const one = [1, 2, 3, 4, 5, 6].map((w) => form('NORMAL', w, 1, 1, 1, 'test'));
  const three = ['A', 'B', 'C'].flatMap((l) => [1, 2, 3, 4, 5].map((w) => form(l, w, 1, 1, 1, 'odd')));
  const other = [...[1, 2, 3, 4, 5].map((w) => form('cat', w, 1)), ...[6, 7, 8, 9, 10].map((w) => form('dog', w, 1))];
  const reports = formSignals([...few, ...one, ...three, ...other]);
  assert.deepEqual(reports.map((r) => r.split), ['train']);
  assert.equal(reports[0].signals.find((s) => s.trait === 'width')!.higherIn, 'dog');
  assert.deepEqual(formSignals([]), []);
});

test('the sentence says whether the model can see the trait', () => {
  const forms = [...[120, 121, 122, 123, 124].map((w) => form('NORMAL', w, 100, 9000)), ...[150, 151, 152, 153, 154].map((w) => form('PNEUMONIA', w, 100, 2048))];
  const signals = formSignals(forms)[0].signals;
  const aspect = signals.find((s) => s.trait === 'aspect ratio')!;
  assert.match(describeFormSignal(aspect), /^aspect ratio alone separates NORMAL from PNEUMONIA with AUC 1\.00 \(median 1\.22 vs 1\.52\): the centre crop \(`crop`\) hides most of it, but .*fills the square/);
  assert.match(describeFormSignal(aspect, { resize: 'stretch', channels: 3 }), /squeeze/);
  assert.match(describeFormSignal(aspect, { resize: 'letterbox', channels: 1 }), /black bars/);
  const size = signals.find((s) => s.trait === 'file size')!;
  assert.match(describeFormSignal(size), /median 9 KiB vs 2 KiB\): the model never sees it/);
});

test('readFileForms reads headers of labelled files and leaves out unlabelled and unreadable ones', async () => {
  const dir = path.join(tmp.dir, 'data');
  await mkdir(dir, { recursive: true });
  const grey = path.join(dir, 'grey.png');
  const rgb = path.join(dir, 'rgb.jpg');
  const bad = path.join(dir, 'bad.jpg');
  await sharp(Buffer.alloc(30 * 20, 9), { raw: { width: 30, height: 20, channels: 1 } }).toColourspace('b-w').png().toFile(grey);
  await sharp({ create: { width: 40, height: 10, channels: 3, background: { r: 200, g: 9, b: 9 } } }).jpeg().toFile(rgb);
  await writeFile(bad, 'not an image');
  const forms = await readFileForms([
    { path: grey, split: 'train', label: 'NORMAL' },
    { path: rgb, split: null, label: 'PNEUMONIA', bytes: 123 },
    { path: bad, split: 'train', label: 'NORMAL' },
    { path: grey, split: 'train', label: null },
  ]);
  assert.equal(forms.length, 2);
  assert.deepEqual({ ...forms[0], bytes: undefined }, { path: grey, split: 'train', label: 'NORMAL', width: 30, height: 20, channels: 1, bytes: undefined });
  assert.ok(forms[0].bytes > 0);
  assert.deepEqual(forms[1], { path: rgb, split: 'all', label: 'PNEUMONIA', width: 40, height: 10, channels: 3, bytes: 123 });
});

test('signalsOfForms judges a set of files as a whole, whatever splits they came from, or says it has too few', async () => {
  const dir = path.join(tmp.dir, 'whole');
  await mkdir(dir, { recursive: true });
  const items = [];
  for (let i = 0; i < 10; i++) {
    const file = path.join(dir, `${i}.png`);
    const width = i < 5 ? 20 + i : 40 + i; // the second class is wider
    await sharp(Buffer.alloc(width * 20, 9), { raw: { width, height: 20, channels: 1 } }).toColourspace('b-w').png().toFile(file);
    items.push({ path: file, split: i % 2 ? 'train' : 'val', label: i < 5 ? 'NORMAL' : 'PNEUMONIA' });
  }
  const forms = await readFileForms(items);
  const signals = signalsOfForms(forms);
  assert.equal(signals?.find((s) => s.trait === 'aspect ratio')?.separation, 1);
  assert.equal(signalsOfForms(forms.slice(1, 9)), undefined, 'four images of each class are too few');
});

test('with the tone read, the mean grey level and grey-level spread of the model-size crop are judged too', async () => {
  const dir = path.join(tmp.dir, 'tone');
  await mkdir(dir, { recursive: true });
  const items = [];
  for (let i = 0; i < 10; i++) {
    const file = path.join(dir, `${i}.png`);
    // NORMAL: dark, a hard-edged half; PNEUMONIA: brighter, flatter.
    const px = Buffer.alloc(40 * 30);
    for (let j = 0; j < px.length; j++) px[j] = i < 5 ? ((j % 40) < 20 ? 20 : 120) + i : 140 + (j % 7) + i;
    await sharp(px, { raw: { width: 40, height: 30, channels: 1 } }).toColourspace('b-w').png().toFile(file);
    items.push({ path: file, split: 'train', label: i < 5 ? 'NORMAL' : 'PNEUMONIA' });
  }
  const progress: number[] = [];
  const forms = await readFileForms(items, { tone: true, onProgress: (d) => progress.push(d) });
  assert.equal(progress.at(-1), 10);
  assert.ok(forms[0].meanGrey! > 60 && forms[0].meanGrey! < 80, String(forms[0].meanGrey));
  assert.ok(forms[0].greySpread! > 40 && forms[9].greySpread! < 5, `${forms[0].greySpread} ${forms[9].greySpread}`);
  const [train] = formSignals(forms);
  const mean = train.signals.find((s) => s.trait === 'mean grey level')!;
  const spread = train.signals.find((s) => s.trait === 'grey-level spread')!;
  assert.deepEqual([mean.separation, mean.higherIn, mean.flagged], [1, 'PNEUMONIA', true]);
  assert.deepEqual([spread.separation, spread.higherIn], [1, 'NORMAL']);
  assert.match(describeFormSignal(mean), /^mean grey level alone separates NORMAL from PNEUMONIA with AUC 1\.00 \(median \d+\.\d vs \d+\.\d\): brightness and contrast come from the machine and exposure as well as from disease/);
  assert.match(describeFormSignal(mean, { resize: 'crop', channels: 1, tone: 'median' }), /this model's tone normalisation hides it/);
  assert.equal(traitVisibility('grey-level spread', { resize: 'crop', channels: 1, tone: 'median' }), 'partly');
  assert.equal(traitVisibility('grey-level spread', { resize: 'crop', channels: 1 }), 'yes');
  // A mixed-tone ensemble sees what its least normalised channel shows.
  const mixed = { resize: 'crop', channels: 3, toneByChannel: ['none', 'equalize', 'none'] as ['none', 'equalize', 'none'] };
  assert.deepEqual(['mean grey level', 'grey-level spread', 'colour channels'].map((t) => traitVisibility(t as 'mean grey level', mixed)), ['yes', 'yes', 'no']);
  assert.equal(traitVisibility('grey-level spread', { ...mixed, toneByChannel: ['equalize', 'median', 'equalize'] }), 'partly');
  assert.equal(formSignals(await readFileForms(items)).at(0)!.signals.length, 5, 'headers only: no tone traits');
});
