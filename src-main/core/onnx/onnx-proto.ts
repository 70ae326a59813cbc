// ONNX ModelProto encoding (onnx.proto3 field numbers) for the subset the converter emits:
// float32/int64 tensors as raw little-endian data, INT/INTS/FLOAT/FLOATS/STRING attributes.
import { ProtoWriter } from './protobuf.ts';

/** ONNX TensorProto.DataType values we use. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** A constant tensor (initializer). */
export interface OnnxTensor {
  name: string;
  dataType: (typeof DataType)[keyof typeof DataType];
  dims: number[];
  /** float32 values for FLOAT, int64 values (as bigint) for INT64. */
  data: Float32Array | BigInt64Array;
}

/** A node attribute value: number (int), {float}, number[] (ints), {floats}, or string. */
export type OnnxAttribute = number | { float: number } | number[] | { floats: number[] } | string;

/** One graph node. */
export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttribute>;
}

/** A graph input or output: float32 with a shape; null (or a string) dims are symbolic. */
export interface OnnxValueInfo {
  name: string;
  dims: Array<number | string | null>;
}

/** A whole model. */
export interface OnnxModel {
  graphName: string;
  producer: string;
  producerVersion: string;
  opset: number;
  docString?: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

// AttributeProto.AttributeType
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

function attributeProto(name: string, v: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`ONNX attribute ${name}: ${v} is not an integer (use { float })`);
    w.int(3, v).int(20, ATTR.INT);
  } else if (typeof v === 'string') {
    w.string(4, v).int(20, ATTR.STRING);
  } else if (Array.isArray(v)) {
    w.packedInts(8, v).int(20, ATTR.INTS);
  } else if ('float' in v) {
    w.float(2, v.float).int(20, ATTR.FLOAT);
  } else {
    w.packedFloats(7, v.floats).int(20, ATTR.FLOATS);
  }
  return w;
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attributeProto(k, v));
  return w;
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d ?? 'batch');
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, DataType.FLOAT).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

/** Encodes a model as ONNX protobuf bytes (IR version 7, default-domain opset `model.opset`). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const g = new ProtoWriter();
  for (const n of model.nodes) g.message(1, nodeProto(n));
  g.string(2, model.graphName);
  for (const t of model.initializers) g.message(5, tensorProto(t));
  for (const i of model.inputs) g.message(11, valueInfoProto(i));
  for (const o of model.outputs) g.message(12, valueInfoProto(o));
  const m = new ProtoWriter()
    .int(1, 7)
    .string(2, model.producer)
    .string(3, model.producerVersion)
    .message(7, g)
    .message(8, new ProtoWriter().string(1, '').int(2, model.opset));
  if (model.docString) m.string(6, model.docString);
  return m.finish();
}
