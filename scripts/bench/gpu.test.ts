import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../../src-main/core/test-support.ts';
import { installCarriedOrtCuda } from './gpu.ts';

const tmp = tempDir();
after(() => tmp.cleanup());

test('carried onnxruntime CUDA libraries are copied beside the binding once, other files are left alone', () => {
  const carried = path.join(tmp.dir, 'gpu-files', 'onnxruntime-cuda');
  const bin = path.join(tmp.dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
  mkdirSync(carried, { recursive: true });
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(carried, 'libonnxruntime_providers_cuda.so'), 'provider');
  writeFileSync(path.join(carried, 'libcudart.so.12'), 'runtime');
  writeFileSync(path.join(carried, 'NOTES.txt'), 'not a library');
  const first = installCarriedOrtCuda(carried, bin);
  assert.deepEqual(first.copied.sort(), ['libcudart.so.12', 'libonnxruntime_providers_cuda.so']);
  assert.equal(readFileSync(path.join(bin, 'libonnxruntime_providers_cuda.so'), 'utf8'), 'provider');
  assert.ok(!existsSync(path.join(bin, 'NOTES.txt')));
  const again = installCarriedOrtCuda(carried, bin);
  assert.deepEqual(again.copied, []);
  assert.match(again.detail, /0 libraries installed .*, 2 already there/);
  assert.match(installCarriedOrtCuda(path.join(tmp.dir, 'absent'), bin).detail, /no carried GPU files \(.*absent is absent\)/);
  assert.match(installCarriedOrtCuda(carried, path.join(tmp.dir, 'no-ort')).detail, /native folder was not found/);
});
