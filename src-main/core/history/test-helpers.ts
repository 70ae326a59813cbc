// Shared fixtures for the history store's tests (not a test file itself).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { after } from 'node:test';
import { recordDiagnoses, startRun, upsertModel } from './index.ts';
import type { DiagnosisInput, HistoryDb } from './types.ts';

/** A fresh temp folder, removed after the test file ends. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-history-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A deterministic sha256 hex for test image `i`. */
export function sha(i: number | string): string {
  return createHash('sha256').update(`image-${i}`).digest('hex');
}

/** A diagnosis input for test image `i`. */
export function diag(i: number, over: Partial<DiagnosisInput> = {}): DiagnosisInput {
  const probability = ((i * 37) % 100) / 100;
  return {
    path: `/data/xr/${i}.png`,
    sha256: sha(i),
    probability,
    label: probability >= 0.5 ? 'PNEUMONIA' : 'NORMAL',
    threshold: 0.5,
    milliseconds: 10 + i,
    ...over,
  };
}

/** Records model m@1 and a running run with `n` diagnoses; returns the ids. */
export function seed(db: HistoryDb, n = 3, model = { id: 'm', version: '1' }): { runId: number; ids: number[] } {
  upsertModel(db, { id: model.id, version: model.version, sha256: sha(`${model.id}@${model.version}`) });
  const runId = startRun(db, { modelId: model.id, modelVersion: model.version, threshold: 0.5, backend: 'cpu', engine: 'tfjs' });
  const ids = recordDiagnoses(db, runId, Array.from({ length: n }, (_, i) => diag(i)));
  return { runId, ids };
}
