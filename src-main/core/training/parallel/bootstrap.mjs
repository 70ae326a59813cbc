// Entry of a model worker thread: registers tsx's loader in this thread (loader hooks registered by the
// parent with `--import tsx` or bin/cxr.mjs do not reach worker threads on every Node version), then loads
// the TypeScript worker module.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
