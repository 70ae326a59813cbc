// tfjs-layers model → ONNX ModelProto. The graph is flattened (nested models expanded), every layer
// call converted by its class's converter; feature maps are NCHW inside, inputs and outputs keep the
// Keras (NHWC) layout, so the ONNX model takes the same batch the TensorFlow.js model takes.
import * as tfl from '@tensorflow/tfjs-layers';
import { basicConverters } from './basic-layers.ts';
import { GraphBuilder, type Value } from './graph-builder.ts';
import { OnnxConversionError, type LayerConverter, type Shape, type Weight } from './layer-context.ts';
import { encodeOnnxModel, type OnnxModel } from './onnx-proto.ts';
import { spatialConverters } from './spatial-layers.ts';

/** Bumped whenever the converter's output changes (part of the ONNX cache key). */
export const CONVERTER_VERSION = 1;
/** The ONNX operator set we emit. */
export const OPSET = 13;

const converters: Record<string, LayerConverter> = { ...spatialConverters, ...basicConverters };

/** Layer classes the converter handles. */
export const SUPPORTED_LAYERS = ['InputLayer', ...Object.keys(converters)].sort();

type Layer = tfl.layers.Layer;
type SymbolicTensor = tfl.SymbolicTensor;

function readWeights(layer: Layer): Map<string, Weight> {
  const out = new Map<string, Weight>();
  for (const w of layer.weights) {
    const short = w.originalName.split('/').pop()!;
    const t = w.read();
    out.set(short, { data: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape.slice() });
  }
  return out;
}

function walk(container: tfl.LayersModel, inputs: Value[], prefix: string, g: GraphBuilder): Value[] {
  if (container instanceof tfl.Sequential && !container.built) container.build();
  const map = new Map<number, Value>();
  container.inputs.forEach((t, i) => map.set(t.id, inputs[i]));
  const depths = Object.keys(container.nodesByDepth).map(Number).sort((a, b) => b - a);
  const names = new Set<string>();
  for (const depth of depths) {
    for (const node of container.nodesByDepth[depth]) {
      const layer = node.outboundLayer as Layer;
      const className = layer.getClassName();
      if (className === 'InputLayer') continue;
      const ins = node.inputTensors.map((t: SymbolicTensor) => map.get(t.id));
      if (ins.some((v) => v === undefined)) continue; // not reachable from the inputs
      let name = `${prefix}${layer.name}`;
      for (let k = 2; names.has(name); k++) name = `${prefix}${layer.name}@${k}`;
      names.add(name);
      let outs: Value[];
      if (layer instanceof tfl.LayersModel) {
        outs = walk(layer, ins as Value[], `${name}/`, g);
      } else {
        const convert = converters[className];
        if (!convert) throw new OnnxConversionError(name, className, `no ONNX conversion for this layer class (supported: ${SUPPORTED_LAYERS.join(', ')})`);
        if (node.outputTensors.length !== 1) throw new OnnxConversionError(name, className, 'layers with several outputs are not supported');
        outs = [convert({
          g, layer, name, className, config: layer.getConfig() as Record<string, unknown>, inputs: ins as Value[],
          outputShape: node.outputTensors[0].shape as Shape, weights: readWeights(layer),
        })];
      }
      node.outputTensors.forEach((t: SymbolicTensor, i: number) => map.set(t.id, outs[i]));
    }
  }
  return container.outputs.map((t, i) => {
    const v = map.get(t.id);
    if (!v) throw new Error(`${container.name}: output ${i} is not reachable from the inputs`);
    return v;
  });
}

/** Builds the ONNX graph of a tfjs-layers model (inputs named input, input_1 …; outputs output, output_1 …). */
export function modelToOnnx(model: tfl.LayersModel, docString?: string): OnnxModel {
  const g = new GraphBuilder();
  const inputs = model.inputs.map((t, i) => {
    if (t.dtype !== 'float32') throw new Error(`model input ${i} is ${t.dtype}; only float32 inputs are supported`);
    return { name: g.unique(i ? `input_${i}` : 'input'), layout: 'keras' as const, shape: t.shape as Shape };
  });
  const outs = walk(model, inputs, '', g);
  const outputs = outs.map((v, i) => {
    const name = g.unique(i ? `output_${i}` : 'output');
    g.nodes.push({ opType: 'Identity', name: `${name}/Identity`, inputs: [g.as(v, 'keras').name], outputs: [name] });
    return { name, dims: v.shape };
  });
  return {
    graphName: model.name, producer: 'cxr-workstation', producerVersion: `tfjs-to-onnx ${CONVERTER_VERSION}`, opset: OPSET, docString,
    nodes: g.nodes, initializers: g.initializers, inputs: inputs.map((v) => ({ name: v.name, dims: v.shape })), outputs,
  };
}

/** Converts a tfjs-layers model to ONNX protobuf bytes; throws OnnxConversionError naming an unsupported layer. */
export function convertToOnnx(model: tfl.LayersModel, docString?: string): Uint8Array {
  return encodeOnnxModel(modelToOnnx(model, docString));
}
