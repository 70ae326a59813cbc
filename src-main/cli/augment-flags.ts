/** The augmentation and class-weight flags shared by `cxr train`, `cxr retrain` and `cxr augment-preview`. */
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_AUGMENT, validateAugment, type AugmentRanges } from '../core/augment/affine.ts';
import { UsageError } from './command.ts';
import { numberFlag } from './common.ts';

/** parseArgs options of the augmentation ranges. */
export const augmentOptions = {
  rotation: { type: 'string' }, shift: { type: 'string' }, zoom: { type: 'string' }, shear: { type: 'string' },
  brightness: { type: 'string' }, contrast: { type: 'string' }, noise: { type: 'string' }, hflip: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** Usage text of the augmentation flags. */
export const AUGMENT_USAGE = `[--rotation 10] [--shift 0.08] [--zoom 0.1] [--shear 0] [--brightness 0.08] [--contrast 0.1] [--noise 0] [--hflip]`;

/** Augmentation ranges from the flags (defaults: DEFAULT_AUGMENT; horizontal flip only with --hflip). */
export function augmentFromFlags(v: Partial<Record<keyof typeof augmentOptions, string | boolean | undefined>>): AugmentRanges {
  const n = (k: 'rotation' | 'shift' | 'zoom' | 'shear' | 'brightness' | 'contrast' | 'noise', max: number, d: number) => numberFlag(v[k] as string | undefined, `--${k}`, 0, max) ?? d;
  const r: AugmentRanges = {
    rotation: n('rotation', 180, DEFAULT_AUGMENT.rotation), shift: n('shift', 0.5, DEFAULT_AUGMENT.shift), zoom: n('zoom', 0.9, DEFAULT_AUGMENT.zoom),
    brightness: n('brightness', 1, DEFAULT_AUGMENT.brightness), contrast: n('contrast', 0.9, DEFAULT_AUGMENT.contrast), horizontalFlip: !!v.hflip,
  };
  const shear = n('shear', 45, 0);
  const noise = n('noise', 1, 0);
  if (shear) r.shear = shear;
  if (noise) r.noise = noise;
  try {
    return validateAugment(r);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--class-weights auto|none|w0,w1`. */
export function classWeightsFlag(value: string | undefined): 'auto' | 'none' | [number, number] {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'none') return 'none';
  const parts = value.split(',').map(Number);
  if (parts.length !== 2 || !parts.every((w) => Number.isFinite(w) && w > 0)) throw new UsageError(`--class-weights must be auto, none, or two positive numbers "w0,w1" for NORMAL,PNEUMONIA (got "${value}")`);
  return [parts[0], parts[1]];
}
