/**
 * Does the label show in the files' form rather than in the image? For each labelled split, how well
 * file size, width, height, aspect ratio and stored colour channels alone separate the two classes
 * (AUC of the trait as a score; 0.5 = no signal). In Kermany's data NORMAL files are larger and of
 * higher resolution, and PNEUMONIA images are wider: resizing hides size and resolution from a model,
 * but not all of the aspect ratio, which reaches it as framing (crop), squeeze (stretch) or padding (letterbox).
 * Only headers are read (sharp metadata), unless the tone is asked for: then each image is also decoded and
 * brought to a 224 px grey centre crop (as a model sees it) for its mean grey level and grey-level spread
 * (standard deviation), which differ with the machine and exposure as well as with disease.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { ChannelTone, FormSignal, FormSignalReport, FormTrait, Tone } from '../../../src-shared/types.ts';
import { auc } from '../evaluation/metrics.ts';
import { readImageFile } from '../imaging/decode.ts';
import { resizeToSpec } from '../imaging/preprocess.ts';

/** A trait separating the classes at least this well (AUC or 1 − AUC) is flagged. */
export const FORM_SIGNAL_FLAG = 0.75;

/** Splits with fewer images than this in either class are not judged. */
export const FORM_SIGNAL_MIN_PER_CLASS = 5;

/** The form of one labelled file. */
export interface FileForm {
  path: string;
  split: string;
  label: string;
  bytes: number;
  width: number;
  height: number;
  channels: number;
  /** With the tone read: mean and standard deviation of the grey levels (0–255) of the 224 px centre crop. */
  meanGrey?: number;
  greySpread?: number;
  /** With the tone read: the share of that crop's pixels that are coloured (imaging/colour-check.ts; 0 for an X-ray). */
  colouredShare?: number;
}

const TRAITS: readonly FormTrait[] = ['file size', 'width', 'height', 'aspect ratio', 'colour channels'];
const TONE_TRAITS: readonly FormTrait[] = ['mean grey level', 'grey-level spread'];

/** The value of one trait for one file (the aspect ratio is width / height). */
export function traitValue(trait: FormTrait, f: FileForm): number {
  switch (trait) {
    case 'file size': return f.bytes;
    case 'width': return f.width;
    case 'height': return f.height;
    case 'aspect ratio': return f.width / f.height;
    case 'colour channels': return f.channels;
    case 'mean grey level': return f.meanGrey ?? NaN;
    case 'grey-level spread': return f.greySpread ?? NaN;
  }
}

/**
 * Reads the header (size, dimensions, channels) of each labelled file, and with `tone` its grey levels too.
 * Files that cannot be read are left out: the dataset scan reports them.
 */
export async function readFileForms(
  items: ReadonlyArray<{ path: string; split: string | null; label: string | null; bytes?: number }>,
  opts: { concurrency?: number; tone?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<FileForm[]> {
  const concurrency = opts.concurrency ?? 8;
  let done = 0;
  const labelled = items.filter((it) => it.label != null);
  const out: Array<FileForm | null> = new Array(labelled.length).fill(null);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < labelled.length) {
      const i = next++;
      const it = labelled[i];
      try {
        const m = await sharp(it.path, { failOn: 'none' }).metadata();
        if (!m.width || !m.height) continue;
        const bytes = it.bytes ?? (await stat(it.path)).size;
        out[i] = { path: it.path, split: it.split ?? 'all', label: it.label!, bytes, width: m.width, height: m.height, channels: m.channels ?? 1, ...(opts.tone ? await readTone(it.path) : {}) };
      } catch {
        // unreadable: the scan lists it
      }
      opts.onProgress?.(++done, labelled.length);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return out.filter((f): f is FileForm => f !== null);
}

/** Mean and standard deviation of the grey levels of a file's 224 px grey centre crop, and its share of coloured pixels. */
async function readTone(file: string): Promise<{ meanGrey: number; greySpread: number; colouredShare: number }> {
  const { pixels, colouredShare } = await resizeToSpec(await readImageFile(file), { height: 224, width: 224, channels: 1, resize: 'crop', scaling: 'raw' }, { file });
  let sum = 0;
  let squares = 0;
  for (const v of pixels) { sum += v; squares += v * v; }
  const mean = sum / pixels.length;
  return { meanGrey: mean, greySpread: Math.sqrt(Math.max(0, squares / pixels.length - mean * mean)), colouredShare };
}

/**
 * For each split with exactly two labels and at least FORM_SIGNAL_MIN_PER_CLASS files in each, how well
 * each trait alone separates them (the two tone traits too when every file's tone was read). `positive` names the class scored as 1 (default: PNEUMONIA when
 * present, else the second label in sort order).
 */
export function formSignals(forms: readonly FileForm[], positive = 'PNEUMONIA'): FormSignalReport[] {
  const bySplit = new Map<string, FileForm[]>();
  for (const f of forms) {
    const rows = bySplit.get(f.split);
    if (rows) rows.push(f);
    else bySplit.set(f.split, [f]);
  }
  const reports: FormSignalReport[] = [];
  for (const [split, rows] of bySplit) {
    const labels = [...new Set(rows.map((r) => r.label))].sort();
    if (labels.length !== 2) continue;
    const pos = labels.includes(positive) ? positive : labels[1];
    const neg = labels.find((l) => l !== pos)!;
    const counts = { [neg]: rows.filter((r) => r.label === neg).length, [pos]: rows.filter((r) => r.label === pos).length };
    if (Math.min(counts[neg], counts[pos]) < FORM_SIGNAL_MIN_PER_CLASS) continue;
    const y = rows.map((r) => (r.label === pos ? 1 : 0));
    const traits = rows.every((r) => r.meanGrey !== undefined && r.greySpread !== undefined) ? [...TRAITS, ...TONE_TRAITS] : TRAITS;
    const signals: FormSignal[] = traits.map((trait) => {
      const v = rows.map((r) => traitValue(trait, r));
      const a = auc(y, v);
      const separation = Math.max(a, 1 - a);
      return {
        trait,
        auc: a,
        separation,
        higherIn: a > 0.5 ? pos : a < 0.5 ? neg : null,
        medians: { [neg]: median(v.filter((_, i) => y[i] === 0)), [pos]: median(v.filter((_, i) => y[i] === 1)) },
        flagged: separation >= FORM_SIGNAL_FLAG,
      };
    });
    reports.push({ split, counts, signals });
  }
  return reports.sort((a, b) => a.split.localeCompare(b.split));
}

/**
 * The form signals of one set of labelled files taken as a whole (a training run's fit images, an evaluated
 * folder), from headers read by readFileForms whatever splits they came from; undefined when it has too few
 * images of either class to judge.
 */
export function signalsOfForms(forms: readonly FileForm[], positive?: string): FormSignal[] | undefined {
  return formSignals(forms.map((f) => ({ ...f, split: 'all' })), positive)[0]?.signals;
}

/** What of a model's input decides which traits it can see (a subset of InputSpec). */
export interface ModelInputView {
  resize: string;
  channels: number;
  tone?: Tone;
  toneByChannel?: ChannelTone[];
}

/**
 * One sentence on a flagged trait for a model card or a log: how well it separates the classes and whether
 * a model with this resize mode, channel count and tone normalisation can see it.
 */
export function describeFormSignal(s: FormSignal, input?: ModelInputView): string {
  const [a, b] = Object.keys(s.medians);
  const head = `${s.trait} alone separates ${a} from ${b} with AUC ${s.separation.toFixed(2)} (median ${formatTraitValue(s.trait, s.medians[a])} vs ${formatTraitValue(s.trait, s.medians[b])})`;
  return `${head}: ${visibility(s.trait, input)}`;
}

/** A trait's value as people read it: the aspect ratio to 2 decimals, file size in KiB, pixels and channels whole. */
export function formatTraitValue(trait: FormTrait, v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (trait === 'mean grey level' || trait === 'grey-level spread') return v.toFixed(1);
  return trait === 'aspect ratio' ? v.toFixed(2) : trait === 'file size' ? `${Math.round(v / 1024)} KiB` : String(Math.round(v));
}

/** Whether a model with this input can see a trait: `no` (resizing or tone normalisation hides it), `partly` or `yes`. */
export function traitVisibility(trait: FormTrait, input: ModelInputView): 'no' | 'partly' | 'yes' {
  // A mixed-tone ensemble sees every tone its channels carry: the least normalised one decides.
  const tones: ChannelTone[] = input.toneByChannel ?? [input.tone ?? 'none'];
  if (trait === 'mean grey level') return tones.includes('none') ? 'yes' : 'no';
  if (trait === 'grey-level spread') return tones.includes('none') ? 'yes' : tones.includes('median') ? 'partly' : 'no';
  if (trait === 'aspect ratio') return input.resize === 'crop' ? 'partly' : 'yes';
  if (trait === 'colour channels') return input.channels === 1 || input.toneByChannel ? 'no' : 'partly';
  return 'no';
}

function visibility(trait: FormTrait, input?: ModelInputView): string {
  if (trait === 'mean grey level' || trait === 'grey-level spread') {
    if (input && traitVisibility(trait, input) === 'no') return 'this model\'s tone normalisation hides it';
    return 'brightness and contrast come from the machine and exposure as well as from disease; a model sees them unless its input is tone-normalised (`cxr train --tone`)';
  }
  if (trait === 'aspect ratio') {
    if (input?.resize === 'stretch') return 'resizing does not hide it: the model sees it as a horizontal squeeze (`stretch`) and can learn it as a shortcut';
    if (input?.resize === 'letterbox') return 'resizing does not hide it: the model sees it as the size of the black bars (`letterbox`) and can learn it as a shortcut';
    return 'the centre crop (`crop`) hides most of it, but the model can still see it in how the chest fills the square (a wider image loses more of its sides) and learn that as a shortcut';
  }
  if (trait === 'colour channels') return input && input.channels === 1 ? 'the model reads grey, so it does not see this' : 'a model reading 3 channels sees colour if the colour files are tinted';
  return 'the model never sees it (images are resized), but it shows the classes were acquired or stored differently';
}

function median(v: number[]): number {
  if (!v.length) return NaN;
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
