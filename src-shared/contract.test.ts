import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contractCalls, preloadApi, validateCall } from './contract.ts';

test('every call has a preload function name', () => {
  assert.deepEqual(Object.keys(preloadApi).sort(), Object.keys(contractCalls).sort());
});

test('validateCall accepts a good payload and rejects extra or wrong fields with the call named', () => {
  assert.deepEqual(validateCall('classify:start', { paths: ['/a'] }), { paths: ['/a'] });
  assert.throws(() => validateCall('classify:start', { paths: [] }), /classify:start: invalid request at "paths"/);
  assert.throws(() => validateCall('classify:start', { paths: ['/a'], evil: 1 }), /classify:start/);
  assert.throws(() => validateCall('classify:start', { paths: ['/a'], threshold: 2 }), /threshold/);
  assert.throws(() => validateCall('nope' as never, {}), /unknown call/);
});
