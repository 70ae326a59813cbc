// Maps each contract call to the core. Plain Node: no electron import here, so it is testable.
import { randomUUID } from 'node:crypto';
import type { CallName, CallRequest, EventName, EventPayload } from '../../src-shared/contract.ts';
import { classifyFiles } from '../core/classify/classify-files.ts';
import { describeNotRead, listImageFiles } from '../core/dataset/list-files.ts';
import { initEngine } from '../core/engine/backend.ts';
import { tfjsPredictor } from '../core/inference/predictor.ts';
import { listModels, loadStoredModel, resolveModel } from '../core/models/store.ts';

type Emit = <N extends EventName>(name: N, payload: EventPayload<N>) => void;
type Handler<N extends CallName> = (req: CallRequest<N>, emit: Emit) => Promise<unknown>;

const jobs = new Map<string, AbortController>();

/** One handler per contract call. */
export const handlers: { [N in CallName]: Handler<N> } = {
  'engine:info': async () => initEngine({}),
  'models:list': async () => (await listModels()).models.map((m) => ({ ...m.metadata, source: m.source })),
  'classify:start': async (req, emit) => {
    const engine = await initEngine({ backend: req.backend ?? 'auto', chosenBy: 'app setting' });
    const stored = await resolveModel(req.modelId);
    const predictor = tfjsPredictor(await loadStoredModel(stored), stored.metadata);
    const { files, failures, notRead } = await listImageFiles(req.paths);
    const jobId = randomUUID();
    const ctrl = new AbortController();
    jobs.set(jobId, ctrl);
    for (const f of failures) emit('classify:failure', { jobId, ...f });
    void classifyFiles({
      files, metadata: stored.metadata, predictor, engine, threshold: req.threshold, signal: ctrl.signal, allowUnfamiliar: req.allowUnfamiliar,
      onRecord: (r) => emit('classify:result', { jobId, path: r.path, probability: r.probability, label: r.label, ...(r.unfamiliar ? { unfamiliar: r.unfamiliar } : {}) }),
      onFailure: (f) => emit('classify:failure', { jobId, ...f }),
      onProgress: (done, total) => emit('classify:progress', { jobId, done, total }),
    }).then((o) => {
      emit('classify:done', { jobId, classified: o.records.length, failed: o.failures.length + failures.length, cancelled: o.cancelled, notRead: describeNotRead(notRead) });
    }).finally(() => {
      predictor.dispose();
      jobs.delete(jobId);
    });
    return { jobId, total: files.length };
  },
  'classify:cancel': async (req) => {
    jobs.get(req.jobId)?.abort();
    return { cancelled: jobs.has(req.jobId) };
  },
};
