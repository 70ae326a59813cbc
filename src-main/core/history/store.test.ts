import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelMetadata } from '../../../src-shared/types.ts';
import {
  addNote, addOverride, finishRun, findDiagnosedImages, latestDiagnoses, getDiagnosis, getRun, listNotes, listRuns,
  markInterruptedRuns, modelStatuses, openHistoryDb, promoteModel, queryHistory, recordDiagnoses, startRun,
  upsertImage, upsertModel, verifyAuditChain,
} from './index.ts';
import { diag, seed, sha } from './test-helpers.ts';

const mem = () => openHistoryDb(':memory:');

test('upsertImage keeps the first path and fills in unknown fields', () => {
  const db = mem();
  const id = upsertImage(db, { sha256: sha(1).toUpperCase(), path: '/first.png' });
  const again = upsertImage(db, { sha256: sha(1), path: '/second.png', width: 1024, height: 768, bytes: 5000, dicom: { patientId: 'P1' } });
  assert.equal(again, id);
  const row = db.prepare('SELECT * FROM images WHERE id = ?').get(id) as Record<string, unknown>;
  assert.equal(row.sha256, sha(1));
  assert.equal(row.path, '/first.png');
  assert.equal(row.width, 1024);
  assert.equal(row.patient_id, 'P1');
  upsertImage(db, { sha256: sha(1), width: 1 });
  assert.equal((db.prepare('SELECT width FROM images').pluck().get()), 1024);
  assert.throws(() => upsertImage(db, { sha256: 'xyz' }), /64 hex digits/);
});

test('upsertModel takes a ModelMetadata, refreshes metadata, and refuses changed weights', () => {
  const db = mem();
  const meta = { schemaVersion: 1, id: 'default', version: '1.0.0', weightsSha256: sha('w'), threshold: 0.4 } as unknown as ModelMetadata;
  const pk = upsertModel(db, meta);
  assert.equal(upsertModel(db, { ...meta, notes: 'evaluated' } as ModelMetadata), pk);
  const row = db.prepare('SELECT * FROM models').get() as { sha256: string; metadata_json: string };
  assert.equal(row.sha256, sha('w'));
  assert.equal(JSON.parse(row.metadata_json).notes, 'evaluated');
  assert.throws(
    () => upsertModel(db, { id: 'default', version: '1.0.0', sha256: sha('other') }),
    /default@1\.0\.0 is already recorded with weights sha256/,
  );
  assert.notEqual(upsertModel(db, { id: 'default', version: '1.1.0' }), pk);
});

test('startRun needs a recorded model and records this machine; finishRun stores counts once', () => {
  const db = mem();
  assert.throws(() => startRun(db, { modelId: 'nope', modelVersion: '1', threshold: 0.5 }), /nope@1 is not in the history; record it with upsertModel/);
  upsertModel(db, { id: 'm', version: '1' });
  const runId = startRun(db, { modelId: 'm', modelVersion: '1', threshold: 0.5, folder: '/data', inputs: ['/data/a.png'], backend: 'cpu', engine: 'tfjs-cpu 4.22' });
  const run = getRun(db, runId)!;
  assert.equal(run.status, 'running');
  assert.equal(run.pid, process.pid);
  assert.ok(run.user && run.hostname && run.platform);
  assert.deepEqual(run.inputs, ['/data/a.png']);
  recordDiagnoses(db, runId, [diag(1), diag(2)]);
  finishRun(db, runId, { total: 3, classified: 2, failed: 1, skipped: 0 });
  const done = getRun(db, runId)!;
  assert.equal(done.status, 'completed');
  assert.deepEqual([done.total, done.classified, done.failed, done.skipped, done.diagnosesRecorded], [3, 2, 1, 0, 2]);
  assert.ok(done.finishedAt);
  assert.throws(() => finishRun(db, runId, { total: 3, classified: 2, failed: 1, skipped: 0 }), /run 1 already finished \(completed\)/);
  assert.throws(() => recordDiagnoses(db, runId, [diag(3)]), /run 1 already finished/);
  assert.throws(() => finishRun(db, 99, { total: 0, classified: 0, failed: 0, skipped: 0 }), /run 99 does not exist/);
  assert.equal(listRuns(db).length, 1);
  assert.equal(listRuns(db, { status: 'running' }).length, 0);
});

test('recordDiagnoses validates rows and writes a chunk all or nothing', () => {
  const db = mem();
  const { runId, ids } = seed(db, 3);
  assert.deepEqual(ids, [1, 2, 3]);
  assert.deepEqual(recordDiagnoses(db, runId, []), []);
  const count = () => db.prepare('SELECT count(*) FROM diagnoses').pluck().get();
  assert.throws(() => recordDiagnoses(db, runId, [diag(10), diag(11, { probability: 1.5 })]), /probability must be within \[0, 1\]/);
  assert.throws(() => recordDiagnoses(db, runId, [diag(10), diag(11, { modelId: 'other', modelVersion: '9' })]), /other@9 but run 1 uses m@1/);
  assert.throws(() => recordDiagnoses(db, runId, [diag(12, { sha256: 'bad' })]), /sha256 must be 64 hex digits/);
  assert.throws(() => recordDiagnoses(db, 42, [diag(13)]), /run 42 does not exist/);
  assert.equal(count(), 3);
  assert.equal(db.prepare('SELECT count(*) FROM images').pluck().get(), 3);
  const d = getDiagnosis(db, ids[1])!;
  assert.equal(d.sha256, sha(1));
  assert.equal(d.probability, diag(1).probability);
  assert.equal(d.modelId, 'm');
});

test('a diagnosis scored although unfamiliar carries an audited note; a failing chunk leaves no note', () => {
  const db = mem();
  const { runId } = seed(db, 1);
  const [id] = recordDiagnoses(db, runId, [diag(5, { unfamiliar: 'distance 0.643 from the images model m was trained on, limit 0.377' })]);
  const notes = listNotes(db, sha(5));
  assert.equal(notes.length, 1);
  assert.equal(notes[0].diagnosisId, id);
  assert.match(notes[0].text, /^scored although unlike the images the model was trained on \(distance 0\.643/);
  assert.throws(() => recordDiagnoses(db, runId, [diag(6, { unfamiliar: 'far' }), diag(7, { probability: 2 })]), /probability/);
  assert.equal(db.prepare('SELECT count(*) FROM notes').pluck().get(), 1);
  assert.equal(verifyAuditChain(db).ok, true);
});

test('latestDiagnoses returns the newest diagnosis of each image by this model version, with its run', () => {
  const db = mem();
  seed(db, 2);
  const second = seed(db, 1); // image 0 again, in a later run of the same model version
  seed(db, 1, { id: 'm', version: '2' });
  const got = latestDiagnoses(db, 'm', '1', [sha(0), sha(1).toUpperCase(), sha(9)]);
  assert.deepEqual([...got.keys()].sort(), [sha(0), sha(1)].sort());
  assert.equal(got.get(sha(0))!.runId, second.runId);
  assert.equal(got.get(sha(0))!.diagnosisId, second.ids[0]);
  assert.deepEqual({ ...got.get(sha(1)), createdAt: 'x' }, { diagnosisId: 2, runId: 1, probability: diag(1).probability, threshold: 0.5, milliseconds: 11, backend: 'cpu', engine: 'tfjs', createdAt: 'x' });
  assert.equal(latestDiagnoses(db, 'm', '1', []).size, 0);
});

test('findDiagnosedImages returns the hashes this model version already diagnosed', () => {
  const db = mem();
  seed(db, 3);
  seed(db, 1, { id: 'm', version: '2' });
  const asked = [sha(0), sha(1).toUpperCase(), sha(5), sha(2)];
  assert.deepEqual(findDiagnosedImages(db, 'm', '1', asked), new Set([sha(0), sha(1), sha(2)]));
  assert.deepEqual(findDiagnosedImages(db, 'm', '2', asked), new Set([sha(0)]));
  assert.deepEqual(findDiagnosedImages(db, 'x', '1', asked), new Set());
  assert.deepEqual(findDiagnosedImages(db, 'm', '1', []), new Set());
  const many = Array.from({ length: 5000 }, (_, i) => sha(i));
  assert.equal(findDiagnosedImages(db, 'm', '1', many).size, 3);
});

test('addOverride validates, never edits the diagnosis, and the latest override wins', () => {
  const db = mem();
  const { ids } = seed(db, 2);
  const before = getDiagnosis(db, ids[0]);
  assert.throws(() => addOverride(db, ids[0], { label: 'COVID', reason: 'x' }), /override of diagnosis 1: label must be NORMAL or PNEUMONIA/);
  assert.throws(() => addOverride(db, ids[0], { label: 'NORMAL', reason: '   ' }), /override of diagnosis 1: reason must not be empty/);
  assert.throws(() => addOverride(db, 77, { label: 'NORMAL', reason: 'r' }), /diagnosis 77 does not exist/);
  addOverride(db, ids[0], { label: 'pneumonia', reason: 'consolidation RLL', user: 'dr.a' });
  const second = addOverride(db, ids[0], { label: 'NORMAL', reason: 'second read: artefact', user: 'dr.b' });
  assert.deepEqual(getDiagnosis(db, ids[0]), before);
  const [row] = queryHistory(db, { image: sha(0) });
  assert.equal(row.overrideId, second);
  assert.equal(row.overrideLabel, 'NORMAL');
  assert.equal(row.overrideUser, 'dr.b');
  assert.equal(row.finalLabel, 'NORMAL');
  assert.equal(row.label, before!.label);
});

test('addNote goes on an image or a diagnosis', () => {
  const db = mem();
  const { ids } = seed(db, 2);
  const n1 = addNote(db, { imageSha256: sha(0), text: 'old fracture', user: 'dr.a' });
  const n2 = addNote(db, { diagnosisId: ids[0], text: 'compare with prior' });
  addNote(db, { diagnosisId: ids[1], text: 'other image' });
  assert.deepEqual(listNotes(db, sha(0)).map((n) => n.id), [n1, n2]);
  assert.throws(() => addNote(db, { text: 'orphan' }), /exactly one/);
  assert.throws(() => addNote(db, { imageSha256: sha(0), diagnosisId: ids[0], text: 'both' }), /exactly one/);
  assert.throws(() => addNote(db, { imageSha256: sha(0), text: ' ' }), /note text must not be empty/);
  assert.throws(() => addNote(db, { imageSha256: sha(999), text: 'x' }), /does not exist/);
  assert.throws(() => addNote(db, { diagnosisId: 999, text: 'x' }), /diagnosis 999 does not exist/);
});

test('promoteModel records statuses; activating a version retires the active one', () => {
  const db = mem();
  upsertModel(db, { id: 'm', version: '1' });
  upsertModel(db, { id: 'm', version: '2' });
  upsertModel(db, { id: 'other', version: '1' });
  promoteModel(db, 'm', '1', { status: 'active', reason: 'validated on site data', user: 'admin' });
  promoteModel(db, 'other', '1', { status: 'active', reason: 'separate model' });
  promoteModel(db, 'm', '2', { status: 'candidate', reason: 'retrained' });
  promoteModel(db, 'm', '2', { status: 'active', reason: 'better AUC' });
  const s = Object.fromEntries(modelStatuses(db).map((x) => [`${x.modelId}@${x.modelVersion}`, x.status]));
  assert.deepEqual(s, { 'm@1': 'retired', 'm@2': 'active', 'other@1': 'active' });
  assert.throws(() => promoteModel(db, 'm', '3', { status: 'active', reason: 'x' }), /m@3 is not in the history/);
  assert.throws(() => promoteModel(db, 'm', '2', { status: 'gold' as never, reason: 'x' }), /status must be one of/);
  assert.throws(() => promoteModel(db, 'm', '2', { status: 'retired', reason: '' }), /reason .* must not be empty/);
  assert.equal(db.prepare("SELECT count(*) FROM audit_log WHERE kind = 'model_promotion'").pluck().get(), 5);
  assert.equal(verifyAuditChain(db).ok, true);
});

test('queryHistory filters by time, effective label, model, image, override; newest first', () => {
  const db = mem();
  upsertModel(db, { id: 'm', version: '1' });
  const runId = startRun(db, { modelId: 'm', modelVersion: '1', threshold: 0.5 });
  const ids = recordDiagnoses(db, runId, [
    diag(1, { createdAt: '2025-01-01T00:00:00.000Z', probability: 0.9, label: 'PNEUMONIA' }),
    diag(2, { createdAt: '2025-02-01T00:00:00.000Z', probability: 0.1, label: 'NORMAL' }),
    diag(3, { createdAt: '2025-03-01T00:00:00.000Z', probability: 0.8, label: 'PNEUMONIA' }),
  ]);
  upsertModel(db, { id: 'n', version: '1' });
  const run2 = startRun(db, { modelId: 'n', modelVersion: '1', threshold: 0.5 });
  recordDiagnoses(db, run2, [diag(1, { createdAt: '2025-04-01T00:00:00.000Z', probability: 0.2, label: 'NORMAL' })]);
  addOverride(db, ids[2], { label: 'NORMAL', reason: 'artefact' });

  const idsOf = (q: Parameters<typeof queryHistory>[1]) => queryHistory(db, q).map((r) => r.diagnosisId);
  assert.deepEqual(idsOf({}), [4, 3, 2, 1]);
  assert.deepEqual(idsOf({ since: '2025-02-01' }), [4, 3, 2]);
  assert.deepEqual(idsOf({ since: new Date('2025-02-15T00:00:00Z'), until: '2025-04-01' }), [3]);
  assert.deepEqual(idsOf({ label: 'normal' }), [4, 3, 2]);
  assert.deepEqual(idsOf({ label: 'PNEUMONIA' }), [1]);
  assert.deepEqual(idsOf({ modelId: 'm' }), [3, 2, 1]);
  assert.deepEqual(idsOf({ modelId: 'n', modelVersion: '1' }), [4]);
  assert.deepEqual(idsOf({ runId }), [3, 2, 1]);
  assert.deepEqual(idsOf({ image: '/data/xr/1.png' }), [4, 1]);
  assert.deepEqual(idsOf({ image: sha(2).slice(0, 8) }), [2]);
  assert.deepEqual(idsOf({ image: sha(2).slice(0, 8).toUpperCase() }), [2]);
  assert.deepEqual(idsOf({ overridden: true }), [3]);
  assert.deepEqual(idsOf({ overridden: false }), [4, 2, 1]);
  assert.deepEqual(idsOf({ limit: 2 }), [4, 3]);
  assert.deepEqual(idsOf({ limit: 2, offset: 2 }), [2, 1]);
  const [row] = queryHistory(db, { image: sha(3) });
  assert.equal(row.path, '/data/xr/3.png');
  assert.equal(row.overrideReason, 'artefact');
  assert.equal(row.finalLabel, 'NORMAL');
});

test('markInterruptedRuns marks only runs whose writer is gone', () => {
  const db = mem();
  const a = seed(db, 2);
  const b = startRun(db, { modelId: 'm', modelVersion: '1', threshold: 0.5, pid: 111 });
  recordDiagnoses(db, b, [diag(50)]);
  // a belongs to this (live) process: left alone by default.
  assert.deepEqual(markInterruptedRuns(db, { isAlive: (r) => r.pid !== 111 }), [b]);
  const run = getRun(db, b)!;
  assert.equal(run.status, 'interrupted');
  assert.equal(run.classified, 1);
  assert.equal(run.diagnosesRecorded, 1);
  assert.deepEqual(markInterruptedRuns(db), []);
  assert.deepEqual(markInterruptedRuns(db, { all: true }), [a.runId]);
  assert.equal(verifyAuditChain(db).ok, true);
});
