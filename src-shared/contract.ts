/**
 * The one typed contract between the renderer and the main process: every call and every event,
 * with zod schemas. The preload exposes exactly these names; the main process validates every
 * payload against them before it reaches the core.
 */
import { z } from 'zod';

const backendSchema = z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);

/** Calls the renderer can make (request schema; responses are typed in ContractResponses). */
export const contractCalls = {
  'engine:info': z.object({}).strict(),
  'models:list': z.object({}).strict(),
  'classify:start': z
    .object({
      paths: z.array(z.string().min(1)).min(1).max(10_000),
      modelId: z.string().min(1).max(64).optional(),
      threshold: z.number().min(0).max(1).optional(),
      backend: backendSchema.optional(),
      /** Score images the model's familiarity check refuses (UNFAMILIAR) instead of reporting them as failures. */
      allowUnfamiliar: z.boolean().optional(),
    })
    .strict(),
  'classify:cancel': z.object({ jobId: z.string().min(1) }).strict(),
} as const;

/** Events the main process sends to the renderer. */
export const contractEvents = {
  'classify:progress': z.object({ jobId: z.string(), done: z.number(), total: z.number() }),
  'classify:result': z.object({
    jobId: z.string(), path: z.string(), probability: z.number(), label: z.string(),
    /** Set when the image was scored although unlike the model's training images (allowUnfamiliar): why. */
    unfamiliar: z.string().optional(),
  }),
  'classify:failure': z.object({ jobId: z.string(), path: z.string(), code: z.string(), reason: z.string() }),
  'classify:done': z.object({
    jobId: z.string(), classified: z.number(), failed: z.number(), cancelled: z.boolean(),
    /** Files the folder walk passed over (not JPEG/PNG), described for the user, or null. */
    notRead: z.string().nullable(),
  }),
} as const;

export type CallName = keyof typeof contractCalls;
export type EventName = keyof typeof contractEvents;
export type CallRequest<N extends CallName> = z.infer<(typeof contractCalls)[N]>;
export type EventPayload<N extends EventName> = z.infer<(typeof contractEvents)[N]>;

/** The function names the preload exposes on `window.cxr`, one per call. */
export const preloadApi: Record<CallName, string> = {
  'engine:info': 'engineInfo',
  'models:list': 'listModels',
  'classify:start': 'classify',
  'classify:cancel': 'cancelClassify',
};

/** Validates a call's payload; throws an Error naming the call and the first problem. */
export function validateCall<N extends CallName>(name: N, payload: unknown): CallRequest<N> {
  const schema = contractCalls[name];
  if (!schema) throw new Error(`unknown call "${String(name)}"`);
  const r = schema.safeParse(payload);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${name}: invalid request at "${i?.path.join('.')}": ${i?.message}`);
  }
  return r.data as CallRequest<N>;
}
