// Metadata for an imported model: input spec from the model's input shape, preprocessing and head from flags.
import path from 'node:path';
import type { ModelMetadata, Scaling } from '../../../src-shared/types.ts';
import type { ImportedModel } from './imported-model.ts';

/** What the user told `cxr import` (all optional). */
export interface ImportChoices {
  id?: string;
  name?: string;
  inputSize?: number;
  channels?: 1 | 3;
  preprocessing?: Scaling;
  classes?: string[];
  output?: 'sigmoid' | 'softmax';
  threshold?: number;
}

/** Thrown when the user must add a flag; the message says which. */
export class ImportChoiceError extends Error {}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

/** 'raw' when the model rescales 0–255 pixels itself (Rescaling 1/255, or 1/127.5 − 1), else null. */
export function scalingFromModel(m: ImportedModel): Scaling | null {
  const r = m.rescaling[0];
  if (!r) return null;
  if ((close(r.scale, 1 / 255) && close(r.offset, 0)) || (close(r.scale, 1 / 127.5) && close(r.offset, -1))) return 'raw';
  return null;
}

/** The model's input height, width and channels; flags fill unknown dimensions and must agree with known ones. */
export function inputFromModel(m: ImportedModel, c: ImportChoices): { height: number; width: number; channels: 1 | 3 } {
  const shape = m.model.inputs[0].shape;
  const src = m.source;
  if (m.model.inputs.length !== 1 || shape.length !== 4) {
    throw new ImportChoiceError(`${src}: the model takes ${m.model.inputs.length} input(s) of shape [${shape}]; only one image input [batch, height, width, channels] is supported`);
  }
  const [, h, w, ch] = shape;
  const pick = (known: number | null, flag: number | undefined, what: string, flagName: string): number => {
    if (known != null && flag != null && known !== flag) throw new ImportChoiceError(`${src}: ${flagName} ${flag} disagrees with the model's input ${what} ${known}; leave the flag out`);
    const v = known ?? flag;
    if (v == null) throw new ImportChoiceError(`${src}: the model's input ${what} is not fixed; give it with ${flagName}`);
    return v;
  };
  const height = pick(h, c.inputSize, 'height', '--input-size');
  const width = pick(w, c.inputSize, 'width', '--input-size');
  const channels = pick(ch, c.channels, 'channels', '--channels');
  if (channels !== 1 && channels !== 3) throw new ImportChoiceError(`${src}: the model wants ${channels} input channels; only 1 (grey) or 3 (RGB) are supported`);
  return { height, width, channels };
}

/** Sigmoid for a one-unit head, softmax for two units; a flag must agree. */
export function outputFromModel(m: ImportedModel, c: ImportChoices): 'sigmoid' | 'softmax' {
  const shape = m.model.outputs[0].shape;
  const units = shape[shape.length - 1];
  if (m.model.outputs.length !== 1 || shape.length !== 2 || (units !== 1 && units !== 2)) {
    throw new ImportChoiceError(`${m.source}: the model's output is [${shape}]; a sigmoid [batch, 1] or two-class softmax [batch, 2] head is needed`);
  }
  const auto = units === 1 ? 'sigmoid' : 'softmax';
  if (c.output && c.output !== auto) throw new ImportChoiceError(`${m.source}: --output ${c.output} disagrees with the model's ${units}-unit head; leave the flag out`);
  return auto;
}

/** A safe model id from a file name (letters, digits, ".", "_", "-"). */
export function idFromSource(source: string): string {
  const base = path.basename(source).replace(/\.(h5|hdf5|keras|zip|json)$/i, '') || 'imported';
  return base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64) || 'imported';
}

/** Builds the metadata stored with an imported model. Throws ImportChoiceError naming the flag to add. */
export function importMetadata(m: ImportedModel, c: ImportChoices, now = new Date()): Omit<ModelMetadata, 'weightsSha256' | 'parameters'> {
  const { height, width, channels } = inputFromModel(m, c);
  const output = outputFromModel(m, c);
  const scaling = c.preprocessing ?? scalingFromModel(m);
  if (!scaling) {
    throw new ImportChoiceError(`${m.source}: the model has no Rescaling layer, so its preprocessing is unknown; give --preprocessing scale255|raw|samplewise|imagenet (what the model was trained with). To compare candidates on labelled images run: cxr import --check <labelled-folder> ${m.source}`);
  }
  if (scaling === 'imagenet' && channels !== 3) throw new ImportChoiceError(`${m.source}: --preprocessing imagenet needs a 3-channel model (this one has ${channels})`);
  const classNames = c.classes ?? ['NORMAL', 'PNEUMONIA'];
  const kv = m.kerasVersion ? `, Keras ${m.kerasVersion}` : '';
  return {
    schemaVersion: 1,
    id: c.id ?? idFromSource(m.source),
    name: c.name ?? `Imported ${path.basename(m.source)}`,
    version: '1',
    created: now.toISOString(),
    architecture: `imported-${m.format}`,
    input: { height, width, channels, resize: 'stretch', scaling },
    classNames,
    positiveClass: classNames[classNames.length - 1],
    output,
    threshold: c.threshold ?? 0.5,
    thresholdChosenBy: c.threshold != null ? 'given with cxr import --threshold (not tuned here)' : 'default 0.5 for an imported model (not tuned)',
    notes: `Imported by cxr import from ${m.source} (${m.format}${kv}) on ${now.toISOString()}; preprocessing ${scaling}${c.preprocessing ? ' (flag)' : ' (from its Rescaling layer)'}.`,
  };
}
