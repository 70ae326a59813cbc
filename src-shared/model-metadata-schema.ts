import { z } from 'zod';

const inputSpec = z.object({
  height: z.number().int().min(8).max(1024),
  width: z.number().int().min(8).max(1024),
  channels: z.union([z.literal(1), z.literal(3)]),
  resize: z.enum(['stretch', 'letterbox', 'crop']),
  scaling: z.enum(['scale255', 'raw', 'samplewise', 'imagenet']),
  sourceForm: z.object({ maxSide: z.number().int().min(16).max(16384), jpegQuality: z.number().int().min(1).max(100) }).strict().optional(),
  tone: z.enum(['equalize', 'median']).optional(),
  toneByChannel: z.array(z.enum(['none', 'equalize', 'median'])).min(1).max(3).optional(),
}).refine((s) => !s.toneByChannel || (s.toneByChannel.length === s.channels && !s.tone), { message: 'input.toneByChannel needs one tone per channel, and no input.tone beside it' });

const metricWithCI = z.object({ value: z.number(), ci95: z.tuple([z.number(), z.number()]) });

/** zod schema of `metadata.json` (see ModelMetadata in types.ts). */
export const modelMetadataSchema = z.object({
  schemaVersion: z.literal(1),
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'id: letters, digits, ".", "_" or "-" (max 64)'),
  name: z.string().min(1),
  version: z.string().min(1),
  created: z.string(),
  architecture: z.string(),
  input: inputSpec,
  classNames: z.array(z.string()).min(2),
  positiveClass: z.string(),
  output: z.enum(['sigmoid', 'softmax']),
  threshold: z.number().min(0).max(1),
  thresholdChosenBy: z.string(),
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  parameters: z.number().int().nonnegative(),
  training: z
    .object({
      command: z.string(),
      dataRoot: z.string(),
      counts: z.record(z.string(), z.record(z.string(), z.number())),
      seed: z.number(),
      epochs: z.number(),
      bestEpoch: z.number(),
      backend: z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']),
      durationSeconds: z.number(),
      hyperparameters: z.record(z.string(), z.unknown()),
      history: z.array(z.record(z.string(), z.number())),
      data: z.record(z.string(), z.object({ files: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).optional(),
      formSignals: z
        .array(
          z.object({
            trait: z.enum(['file size', 'width', 'height', 'aspect ratio', 'colour channels', 'mean grey level', 'grey-level spread']),
            auc: z.number(),
            separation: z.number(),
            higherIn: z.string().nullable(),
            medians: z.record(z.string(), z.number()),
            flagged: z.boolean(),
          }),
        )
        .optional(),
    })
    .optional(),
  metrics: z
    .record(
      z.string(),
      z.object({
        dataset: z.string(),
        n: z.number(),
        positives: z.number(),
        threshold: z.number(),
        auc: metricWithCI,
        accuracy: metricWithCI,
        sensitivity: metricWithCI,
        specificity: metricWithCI,
      }),
    )
    .optional(),
  calibration: z
    .object({
      method: z.enum(['platt', 'temperature']),
      a: z.number().optional(),
      b: z.number().optional(),
      temperature: z.number().positive().optional(),
      fittedOn: z.string(),
      n: z.number(),
    })
    .optional(),
  operatingPoint: z
    .object({
      rule: z.enum(['target-sensitivity', 'target-specificity', 'youden']),
      target: z.number().nullable(),
      dataset: z.string(),
      n: z.number(),
      positives: z.number(),
      expectedSensitivity: z.number(),
      expectedSpecificity: z.number(),
      calibrated: z.boolean(),
      chosenAt: z.string(),
    })
    .optional(),
  ensemble: z
    .object({
      combination: z.string(),
      command: z.string(),
      members: z.array(z.object({ id: z.string(), name: z.string(), version: z.string(), architecture: z.string(), weightsSha256: z.string(), input: inputSpec, calibrated: z.boolean() })).min(2),
    })
    .optional(),
  weightStorage: z
    .object({
      dtype: z.enum(['float32', 'uint8', 'uint16', 'mixed']),
      uint16Tensors: z.number().int().nonnegative().optional(),
      quantizedTensors: z.number().int().nonnegative().optional(),
      weightBytes: z.number().int().nonnegative().optional(),
      maxAbsError: z.number().nonnegative().optional(),
    })
    .optional(),
  familiarity: z
    .object({
      layer: z.string().min(1),
      center: z.object({ length: z.number().int().positive(), min: z.number(), step: z.number().nonnegative(), base64: z.string() }).strict(),
      limit: z.number().positive().max(2),
      fittedOn: z.object({ dataset: z.string(), n: z.number().int().positive() }),
      limitFrom: z.object({ dataset: z.string(), n: z.number().int().positive(), largest: z.number().nonnegative(), margin: z.number().positive() }),
      chosenAt: z.string(),
      command: z.string().optional(),
    })
    .optional(),
  notes: z.string().optional(),
});
