/** Writes a graph of symbolic tensors as ONNX ModelProto bytes (opset 17). */
import onnxProto from 'onnx-proto';
import { topologicalOrder } from './grad.js';
import { lowerToNchwc, nchwcEligible } from './nchwc.js';
import { OPS } from './ops.js';
import { GraphError, type Tensor } from './tensor.js';

const { onnx } = onnxProto;
export const OPSET = 17;
const IR_VERSION = 8;

export interface OnnxGraphSpec {
  name: string;
  inputs: readonly Tensor[];
  outputs: Readonly<Record<string, Tensor>>;
  /** Per input/output name, dimensions to write as named symbols (e.g. {x: {0: 'batch', 2: 'y', 3: 'x'}}). */
  dynamicDims?: Readonly<Record<string, Readonly<Record<number, string>>>>;
  docString?: string;
  /**
   * Write eligible 2D convs for ONNX Runtime's blocked CPU kernels with this channel block (`nchwc.ts`). Only for
   * graphs that run on its CPU provider and are never exported.
   */
  nchwcBlock?: number;
}

const ELEMENT_TYPE = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
} as const;

export function toOnnx(spec: OnnxGraphSpec): Uint8Array {
  const outputs = Object.entries(spec.outputs);
  const order = topologicalOrder(outputs.map(([, t]) => t));
  const inputIds = new Set(spec.inputs.map((t) => t.id));
  const names = new Map<number, string>();
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const int64Cache = new Map<string, string>();
  const domains = new Set<string>();

  const int64Input = (values: readonly number[]): string => {
    const key = `i64:${values.join(',')}`;
    let name = int64Cache.get(key);
    if (!name) {
      name = `c${int64Cache.size}_i64`;
      int64Cache.set(key, name);
      const raw = new BigInt64Array(values.map((v) => BigInt(v)));
      initializers.push({ name, dims: [values.length], dataType: ELEMENT_TYPE.int64, rawData: bytesOf(raw) });
    }
    return name;
  };
  const floatInput = (values: readonly number[]): string => {
    const name = `c${initializers.length}_f32`;
    initializers.push({
      name,
      dims: [values.length],
      dataType: ELEMENT_TYPE.float32,
      rawData: bytesOf(Float32Array.from(values)),
    });
    return name;
  };

  const emit = (node: Tensor): void => {
    if (node.op === 'Input') {
      if (!inputIds.has(node.id))
        throw new GraphError(`input "${node.name}" is used but not declared`, 'toOnnx');
      names.set(node.id, node.name!);
      return;
    }
    const name = `t${node.id}`;
    names.set(node.id, name);
    if (node.op === 'Constant') {
      initializers.push({
        name,
        dims: [...node.shape],
        dataType: ELEMENT_TYPE[node.dtype],
        rawData: bytesOf(node.value!),
      });
      return;
    }
    const emission = OPS[node.op].onnx;
    const block = spec.nchwcBlock;
    if ('lower' in emission || (block !== undefined && nchwcEligible(node, block))) {
      // A composite op (or a conv for the blocked kernels): write its primitive subgraph; its inputs already
      // have names.
      const lowered = 'lower' in emission ? emission.lower(node) : lowerToNchwc(node, block!);
      for (const inner of topologicalOrder([lowered])) if (!names.has(inner.id)) emit(inner);
      names.set(node.id, names.get(lowered.id)!);
      return;
    }
    const inputNames = node.inputs.map((t) => names.get(t.id)!);
    const attribute: onnxProto.onnx.IAttributeProto[] = [];
    const asInputs = emission.attrInputs ?? [];
    for (const spec of asInputs) {
      const [attr, kind] = spec.split(':');
      const value = node.attrs[attr] as readonly number[] | undefined;
      // An empty list is an omitted optional input (Resize's roi), except Reshape's shape: [] is a scalar.
      const required = emission.type === 'Reshape';
      if (attr === '' || !value || (value.length === 0 && !required)) inputNames.push('');
      else inputNames.push(kind === 'float' ? floatInput(value) : int64Input(value));
    }
    for (const [key, value] of Object.entries(node.attrs)) {
      if (value === undefined || asInputs.some((s) => s.split(':')[0] === key)) continue;
      attribute.push(toAttribute(key, value));
    }
    if (emission.domain) domains.add(emission.domain);
    nodes.push({
      opType: emission.type,
      domain: emission.domain ?? '',
      input: inputNames,
      output: [name],
      name: `n${node.id}`,
      attribute,
    });
  };
  for (const node of order) if (!names.has(node.id)) emit(node);

  const graphOutputs = outputs.map(([outName, t]) => {
    nodes.push({ opType: 'Identity', input: [names.get(t.id)!], output: [outName], name: `out_${outName}` });
    return valueInfo(outName, t, spec.dynamicDims?.[outName]);
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
    producerName: 'careamics-js',
    docString: spec.docString ?? '',
    graph: {
      name: spec.name,
      node: nodes,
      initializer: initializers,
      input: spec.inputs.map((t) => valueInfo(t.name!, t, spec.dynamicDims?.[t.name!])),
      output: graphOutputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function valueInfo(
  name: string,
  t: Tensor,
  dynamic?: Readonly<Record<number, string>>,
): onnxProto.onnx.IValueInfoProto {
  const dim = t.shape.map((d, i) => (dynamic?.[i] ? { dimParam: dynamic[i] } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: ELEMENT_TYPE[t.dtype], shape: { dim } } } };
}

function toAttribute(
  name: string,
  value: number | string | readonly number[],
): onnxProto.onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  return { name, type: AttributeType.INTS, ints: [...value] };
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
