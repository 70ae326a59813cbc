// Collects ONNX nodes and initializers while a tfjs graph is converted, and tracks each value's layout:
// 4-D feature maps live as NCHW inside the ONNX graph (what Conv/Pool want); everything else, and any
// value a layer needs in Keras order, is "keras" layout (NHWC for 4-D). Transposes between the two
// are inserted on demand and reused.
import { DataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-proto.ts';

/** Where a value's axes are: Keras order, or NCHW for a 4-D Keras NHWC tensor. */
export type Layout = 'keras' | 'nchw';

/** A tensor in the ONNX graph. */
export interface Value {
  name: string;
  layout: Layout;
  /** Keras shape including the batch dimension (null where unknown). */
  shape: Array<number | null>;
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** Builds the node and initializer lists of one ONNX graph. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private used = new Set<string>();
  private converted = new Map<string, Value>();

  /** A value name not used yet, derived from `hint`. */
  unique(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Adds a float32 initializer and returns its name. */
  floatConst(hint: string, dims: number[], data: Float32Array | number[]): string {
    const name = this.unique(hint);
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    const count = dims.reduce((a, b) => a * b, 1);
    if (arr.length !== count) throw new Error(`internal: constant ${name} has ${arr.length} values for shape [${dims}]`);
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, data: arr });
    return name;
  }

  /** Adds an int64 initializer (1-D) and returns its name. */
  int64Const(hint: string, values: number[]): string {
    const name = this.unique(hint);
    this.initializers.push({ name, dataType: DataType.INT64, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], hint: string, attributes?: Record<string, OnnxAttribute>): string {
    const out = this.unique(hint);
    this.nodes.push({ opType, name: this.unique(`${hint}/${opType}`), inputs, outputs: [out], ...(attributes ? { attributes } : {}) });
    return out;
  }

  /** The value in the wanted layout (a Transpose is added once per value and reused). */
  as(v: Value, want: Layout): Value {
    if (v.layout === want) return v;
    if (v.shape.length !== 4) {
      if (want === 'nchw') throw new Error(`internal: ${v.name} has rank ${v.shape.length}, cannot be NCHW`);
      return v;
    }
    const key = `${v.name}→${want}`;
    const hit = this.converted.get(key);
    if (hit) return hit;
    const name = this.op('Transpose', [v.name], `${v.name}/${want}`, { perm: want === 'nchw' ? TO_NCHW : TO_NHWC });
    const out: Value = { name, layout: want, shape: v.shape };
    this.converted.set(key, out);
    return out;
  }

  /** NCHW for 4-D values, Keras layout otherwise (what Conv/Pool-like ops want). */
  spatial(v: Value): Value {
    return v.shape.length === 4 ? this.as(v, 'nchw') : v;
  }
}

/** Reorders a dense row-major array of shape `dims` by `perm` (like numpy.transpose); returns data and new dims. */
export function permute(data: Float32Array, dims: number[], perm: number[]): { data: Float32Array; dims: number[] } {
  const outDims = perm.map((p) => dims[p]);
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array(outDims.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += idx[k] * strides[perm[k]];
    out[o] = data[src];
    for (let k = outDims.length - 1; k >= 0; k--) {
      if (++idx[k] < outDims[k]) break;
      idx[k] = 0;
    }
  }
  return { data: out, dims: outDims };
}
