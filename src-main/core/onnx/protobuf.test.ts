import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataType, encodeOnnxModel } from './onnx-proto.ts';
import { ProtoWriter, encodeVarint } from './protobuf.ts';
import { openOrtSession } from './ort-session.ts';

test('varints and fields are encoded as protobuf specifies', () => {
  assert.deepEqual([...encodeVarint(0n)], [0]);
  assert.deepEqual([...encodeVarint(1n)], [1]);
  assert.deepEqual([...encodeVarint(300n)], [0xac, 0x02]);
  assert.deepEqual([...encodeVarint(-1n)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  // field 1 varint 150 → 08 96 01; field 2 string "hi" → 12 02 68 69; field 3 float 1 → 1d 00 00 80 3f
  const w = new ProtoWriter().int(1, 150).string(2, 'hi').float(3, 1).packedInts(4, [1, 2]);
  assert.deepEqual([...w.finish()], [0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69, 0x1d, 0, 0, 0x80, 0x3f, 0x22, 0x02, 0x01, 0x02]);
  const nested = new ProtoWriter().message(7, new ProtoWriter().int(1, 5)).finish();
  assert.deepEqual([...nested], [0x3a, 0x02, 0x08, 0x05]);
});

test('a hand-built ONNX model round-trips through onnxruntime (attributes, int64 and float initializers)', async () => {
  // y = Softmax(Reshape(x·2 + b, [0, -1]), axis −1) with x [N, 2, 2]
  const onnx = encodeOnnxModel({
    graphName: 'tiny', producer: 'test', producerVersion: '0', opset: 13,
    inputs: [{ name: 'x', dims: [null, 2, 2] }],
    outputs: [{ name: 'y', dims: [null, 4] }],
    initializers: [
      { name: 'two', dataType: DataType.FLOAT, dims: [], data: Float32Array.of(2) },
      { name: 'b', dataType: DataType.FLOAT, dims: [2], data: Float32Array.of(0.5, -0.5) },
      { name: 'shape', dataType: DataType.INT64, dims: [2], data: BigInt64Array.of(0n, -1n) },
    ],
    nodes: [
      { opType: 'Mul', name: 'mul', inputs: ['x', 'two'], outputs: ['m'] },
      { opType: 'Add', name: 'add', inputs: ['m', 'b'], outputs: ['a'] },
      { opType: 'Reshape', name: 'reshape', inputs: ['a', 'shape'], outputs: ['r'] },
      { opType: 'LeakyRelu', name: 'leaky', inputs: ['r'], outputs: ['l'], attributes: { alpha: { float: 0.25 } } },
      { opType: 'Softmax', name: 'softmax', inputs: ['l'], outputs: ['y'], attributes: { axis: -1 } },
    ],
  });
  const s = await openOrtSession(onnx, 2);
  try {
    assert.equal(s.threads, 2);
    const x = Float32Array.of(0, 1, -2, 3, 1, 1, 1, 1);
    const r = await s.run(x, [2, 2, 2]);
    assert.deepEqual(r.dims, [2, 4]);
    const pre = [...x].map((v, i) => v * 2 + (i % 2 ? -0.5 : 0.5)).map((v) => (v < 0 ? v * 0.25 : v));
    for (let n = 0; n < 2; n++) {
      const row = pre.slice(n * 4, n * 4 + 4).map(Math.exp);
      const sum = row.reduce((a, b) => a + b, 0);
      row.forEach((v, i) => assert.ok(Math.abs(r.data[n * 4 + i] - v / sum) < 1e-6));
    }
  } finally {
    await s.release();
  }
});
