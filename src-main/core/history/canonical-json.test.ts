import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './canonical-json.ts';

test('canonicalJson sorts keys recursively and has no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }], u: undefined }), '{"a":[{"c":"x","d":null}],"b":1}');
  assert.equal(canonicalJson({ z: 0.1 + 0.2, y: 'é"\n' }), '{"y":"é\\"\\n","z":0.30000000000000004}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  assert.throws(() => canonicalJson({ a: NaN }), /NaN/);
  assert.throws(() => canonicalJson({ a: 1n }), /bigint/);
});
