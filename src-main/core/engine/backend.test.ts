import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { engineInfo, engineLabel, initEngine, parseBackendName } from './backend.ts';

test('parseBackendName accepts names and aliases, and rejects others with the source named', () => {
  assert.equal(parseBackendName('WASM', '--backend'), 'wasm');
  assert.equal(parseBackendName('tfjs-node', '--backend'), 'tensorflow');
  assert.equal(parseBackendName('gpu', 'CXR_BACKEND'), 'tensorflow-gpu');
  assert.throws(() => parseBackendName('cuda', 'CXR_BACKEND'), /CXR_BACKEND: unknown backend "cuda"/);
});

test('auto picks the first available backend and reports why the others were skipped', async () => {
  const saved = process.env.CXR_BACKEND;
  delete process.env.CXR_BACKEND;
  try {
    const info = await initEngine({});
    assert.equal(tf.getBackend(), info.backend === 'tensorflow-gpu' ? 'tensorflow' : info.backend);
    assert.equal(info.chosenBy, 'auto');
    assert.ok(info.candidates.at(-1)!.available);
    for (const c of info.candidates.slice(0, -1)) assert.equal(c.available, false, c.detail);
    assert.equal(engineInfo(), info);
    assert.match(engineLabel(info), /^tfjs 4\.\d+\.\d+ /);
    if (info.backend === 'wasm') assert.equal(info.threads, 1);
  } finally {
    if (saved !== undefined) process.env.CXR_BACKEND = saved;
  }
});

test('a forced backend is used, and CXR_BACKEND is honoured', async () => {
  const cpu = await initEngine({ backend: 'cpu', chosenBy: 'flag --backend' });
  assert.equal(cpu.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  process.env.CXR_BACKEND = 'wasm';
  try {
    const w = await initEngine({});
    assert.equal(w.backend, 'wasm');
    assert.equal(w.chosenBy, 'env CXR_BACKEND');
  } finally {
    delete process.env.CXR_BACKEND;
  }
});

test('forcing a native backend that is not installed fails with the reason', async (t) => {
  let installed = true;
  try {
    await import('@tensorflow/tfjs-node' as string);
  } catch {
    installed = false;
  }
  if (installed) return t.skip('tfjs-node is installed here');
  await assert.rejects(initEngine({ backend: 'tensorflow' }), /no usable compute backend \(tensorflow: @tensorflow\/tfjs-node is (not installed|installed but failed to load)/);
});
