/**
 * The op table: for every op, its shape rule and how it is written to ONNX. Builders (`conv`, `add`, …) create
 * nodes, checked by the shape rule; `toOnnx()` writes them using the `onnx` column. The gradient column is
 * `VJPS` in `vjps.ts`, which `grad()` walks.
 */
import {
  concatShape,
  convShape,
  convTransposeShape,
  matmulShape,
  nums,
  poolShape,
  reduceShape,
  reshapeShape,
  sliceShape,
} from './shapes.js';
import {
  type Attrs,
  broadcastShapes,
  constant,
  type ElementType,
  GraphError,
  normaliseAxes,
  Tensor,
} from './tensor.js';

/** How a node is written to ONNX: the ONNX op type, and which attributes travel as int64 input tensors. */
export interface OnnxEmission {
  type: string;
  /** The operator set domain, for ONNX Runtime's own ops (default: the ONNX domain). */
  domain?: string;
  /** Attributes emitted as trailing int64 inputs, in this order (ONNX ≥ 13 takes axes, shapes and pads as inputs). */
  attrInputs?: readonly string[];
}

export interface OpDef {
  infer(inputs: readonly Tensor[], attrs: Attrs): { shape: number[]; dtype?: ElementType };
  /** How the node is written to ONNX: one ONNX node, or (`lower`) a subgraph of primitive ops. */
  onnx: OnnxEmission | { lower: (node: Tensor) => Tensor };
}

/** ONNX Runtime's domain of blocked-layout CPU kernels. */
export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

type In = readonly Tensor[];
const same = (ins: In) => ({ shape: [...ins[0].shape] });
const broadcast = (op: string) => (ins: In) => ({ shape: broadcastShapes(ins[0].shape, ins[1].shape, op) });
const compare = (op: string) => (ins: In) => ({ ...broadcast(op)(ins), dtype: 'bool' as const });

export const OPS: Record<string, OpDef> = {
  Input: { infer: same, onnx: { type: 'Input' } },
  Constant: { infer: same, onnx: { type: 'Constant' } },
  Identity: { infer: same, onnx: { type: 'Identity' } },
  /** Identity whose gradient is zero: the shift of a log-sum-exp, which changes its value's rounding, not its gradient. */
  StopGradient: { infer: same, onnx: { type: 'Identity' } },

  Add: { infer: broadcast('Add'), onnx: { type: 'Add' } },
  Sub: { infer: broadcast('Sub'), onnx: { type: 'Sub' } },
  Mul: { infer: broadcast('Mul'), onnx: { type: 'Mul' } },
  Div: { infer: broadcast('Div'), onnx: { type: 'Div' } },
  Pow: { infer: broadcast('Pow'), onnx: { type: 'Pow' } },
  Max: { infer: broadcast('Max'), onnx: { type: 'Max' } },
  Relu: { infer: same, onnx: { type: 'Relu' } },
  Sigmoid: { infer: same, onnx: { type: 'Sigmoid' } },
  Sqrt: { infer: same, onnx: { type: 'Sqrt' } },
  Exp: { infer: same, onnx: { type: 'Exp' } },
  Log: { infer: same, onnx: { type: 'Log' } },
  Abs: { infer: same, onnx: { type: 'Abs' } },
  Sign: { infer: same, onnx: { type: 'Sign' } },
  Equal: { infer: compare('Equal'), onnx: { type: 'Equal' } },
  Greater: { infer: compare('Greater'), onnx: { type: 'Greater' } },
  /** A bool mask as 0/1 float32 (ONNX `to` = 1, FLOAT). */
  Cast: { infer: (ins) => ({ shape: [...ins[0].shape], dtype: 'float32' }), onnx: { type: 'Cast' } },
  Where: {
    infer: (ins) => ({
      shape: broadcastShapes(ins[0].shape, broadcastShapes(ins[1].shape, ins[2].shape)),
      dtype: ins[1].dtype,
    }),
    onnx: { type: 'Where' },
  },

  ReduceSum: { infer: reduceShape, onnx: { type: 'ReduceSum', attrInputs: ['axes'] } },
  // ONNX opset 17 still takes ReduceMean's axes as an attribute.
  ReduceMean: { infer: reduceShape, onnx: { type: 'ReduceMean' } },
  // Like ReduceMean, ReduceMax takes its axes as an attribute in opset 17.
  ReduceMax: { infer: reduceShape, onnx: { type: 'ReduceMax' } },
  Reshape: {
    infer: (ins, a) => reshapeShape(ins[0], nums(a, 'shape')),
    onnx: { type: 'Reshape', attrInputs: ['shape'] },
  },
  Transpose: {
    infer: (ins, a) => ({ shape: nums(a, 'perm').map((p) => ins[0].shape[p]) }),
    onnx: { type: 'Transpose' },
  },
  Expand: {
    infer: (ins, a) => ({ shape: broadcastShapes(ins[0].shape, nums(a, 'shape'), 'Expand') }),
    onnx: { type: 'Expand', attrInputs: ['shape'] },
  },
  Concat: { infer: concatShape, onnx: { type: 'Concat' } },
  Slice: { infer: sliceShape, onnx: { type: 'Slice', attrInputs: ['starts', 'ends', 'axes', 'steps'] } },
  Pad: {
    infer: (ins, a) => ({
      shape: ins[0].shape.map((d, i) => d + nums(a, 'pads')[i] + nums(a, 'pads')[i + ins[0].rank]),
    }),
    onnx: { type: 'Pad', attrInputs: ['pads'] },
  },
  MatMul: { infer: matmulShape, onnx: { type: 'MatMul' } },
  /** out[…, j, …] = x[…, index[…, j, …], …] on `axis`; `index` (int64) has x's rank and sizes except on `axis`. */
  GatherElements: { infer: gatherElementsShape, onnx: { type: 'GatherElements' } },
  /** `x` with `updates` written (reduction 'add': added) at `index` on `axis`; the transpose of GatherElements. */
  ScatterElements: { infer: (ins) => ({ shape: [...ins[0].shape] }), onnx: { type: 'ScatterElements' } },

  Conv: { infer: convShape, onnx: { type: 'Conv' } },
  // ONNX Runtime's blocked-layout CPU kernels (`nchwc.ts`): the tensors keep their NCHW shapes, their data is
  // laid out in blocks of channels.
  NchwcReorderInput: { infer: same, onnx: { type: 'ReorderInput', domain: NCHWC_DOMAIN } },
  NchwcReorderOutput: { infer: same, onnx: { type: 'ReorderOutput', domain: NCHWC_DOMAIN } },
  NchwcConv: { infer: convShape, onnx: { type: 'Conv', domain: NCHWC_DOMAIN } },
  ConvTranspose: { infer: convTransposeShape, onnx: { type: 'ConvTranspose' } },
  MaxPool: { infer: poolShape, onnx: { type: 'MaxPool' } },
  Resize: {
    infer: (ins, a) => ({ shape: ins[0].shape.map((d, i) => d * nums(a, 'scales')[i]) }),
    onnx: { type: 'Resize', attrInputs: ['roi:float', 'scales:float'] },
  },
  /**
   * Batch norm in training mode after its statistics: y = xc · invstd · γ + β, where xc = z − mean(z) and
   * invstd = 1/√(var(z)+ε) come from `z` and γ, β are (1, C, 1…). One node so that its gradient is the
   * three-term formula, reusing dγ and dβ, and the statistics' subgraphs are never differentiated.
   */
  BatchNormAffine: {
    infer: (ins) => ({ shape: [...ins[0].shape] }),
    // As a per-channel (depthwise 1×1) conv of xc with weights invstd·γ and bias β: one pass over the tensor
    // instead of a Mul and an Add, and ONNX Runtime fuses the ReLU that follows into it.
    onnx: { lower: (n) => channelAffine(n.inputs[1], mul(n.inputs[2], n.inputs[3]), n.inputs[4]) },
  },
};

function gatherElementsShape(ins: In, a: Attrs) {
  const [x, index] = ins;
  const axis = a.axis as number;
  if (index.dtype !== 'int64' || index.rank !== x.rank)
    throw new GraphError(
      `index must be int64 of rank ${x.rank}, got ${index.dtype} [${index.shape}]`,
      'GatherElements',
    );
  if (index.shape.some((d, i) => i !== axis && d !== x.shape[i]))
    throw new GraphError(
      `index [${index.shape}] must match [${x.shape}] except on axis ${axis}`,
      'GatherElements',
    );
  return { shape: [...index.shape], dtype: x.dtype };
}

/** Creates a node, checking its inputs with the op's shape rule. */
export function apply(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
  const def = OPS[op];
  if (!def) throw new GraphError('unknown op', op);
  const { shape, dtype } = def.infer(inputs, attrs);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new GraphError(
      `invalid output shape [${shape}] from inputs ${inputs.map((t) => `[${t.shape}]`)}`,
      op,
    );
  }
  return new Tensor(op, inputs, attrs, shape, dtype ?? inputs[0]?.dtype ?? 'float32');
}

type Operand = Tensor | number;
const lift = (x: Operand): Tensor => (typeof x === 'number' ? constant(x) : x);

export const add = (a: Operand, b: Operand) => apply('Add', [lift(a), lift(b)]);
export const sub = (a: Operand, b: Operand) => apply('Sub', [lift(a), lift(b)]);
export const mul = (a: Operand, b: Operand) => apply('Mul', [lift(a), lift(b)]);
export const div = (a: Operand, b: Operand) => apply('Div', [lift(a), lift(b)]);
export const pow = (a: Operand, b: Operand) => apply('Pow', [lift(a), lift(b)]);
export const maximum = (a: Operand, b: Operand) => apply('Max', [lift(a), lift(b)]);
export const neg = (a: Tensor) => mul(a, -1);
export const relu = (x: Tensor) => apply('Relu', [x]);
export const sigmoid = (x: Tensor) => apply('Sigmoid', [x]);
export const sqrt = (x: Tensor) => apply('Sqrt', [x]);
export const exp = (x: Tensor) => apply('Exp', [x]);
export const log = (x: Tensor) => apply('Log', [x]);
export const abs = (x: Tensor) => apply('Abs', [x]);
export const sign = (x: Tensor) => apply('Sign', [x]);
export const identity = (x: Tensor) => apply('Identity', [x]);
export const stopGradient = (x: Tensor) => apply('StopGradient', [x]);
export const equal = (a: Operand, b: Operand) => apply('Equal', [lift(a), lift(b)]);
export const greater = (a: Operand, b: Operand) => apply('Greater', [lift(a), lift(b)]);
export const toFloat = (mask: Tensor) => apply('Cast', [mask], { to: 1 });
export const where = (cond: Tensor, a: Operand, b: Operand) => apply('Where', [cond, lift(a), lift(b)]);
export const matmul = (a: Tensor, b: Tensor) => apply('MatMul', [a, b]);
export const gatherElements = (x: Tensor, index: Tensor, axis: number) =>
  apply('GatherElements', [x, index], { axis: axis < 0 ? axis + x.rank : axis });
/** Repeated indices add up (ONNX ≥ 16's reduction). */
export const scatterElementsAdd = (x: Tensor, index: Tensor, updates: Tensor, axis: number) =>
  apply('ScatterElements', [x, index, updates], { axis: axis < 0 ? axis + x.rank : axis, reduction: 'add' });

export const reduceSum = (x: Tensor, axes: readonly number[], keepdims = true) =>
  apply('ReduceSum', [x], { axes: normaliseAxes(axes, x.rank), keepdims: keepdims ? 1 : 0 });
export const reduceMean = (x: Tensor, axes: readonly number[], keepdims = true) =>
  apply('ReduceMean', [x], { axes: normaliseAxes(axes, x.rank), keepdims: keepdims ? 1 : 0 });
export const reduceMax = (x: Tensor, axes: readonly number[], keepdims = true) =>
  apply('ReduceMax', [x], { axes: normaliseAxes(axes, x.rank), keepdims: keepdims ? 1 : 0 });
export const reshape = (x: Tensor, shape: readonly number[]) => apply('Reshape', [x], { shape: [...shape] });
export const transpose = (x: Tensor, perm: readonly number[]) => apply('Transpose', [x], { perm: [...perm] });
export const expand = (x: Tensor, shape: readonly number[]) => apply('Expand', [x], { shape: [...shape] });
export const concat = (xs: readonly Tensor[], axis: number) =>
  apply('Concat', xs, { axis: axis < 0 ? axis + xs[0].rank : axis });

/** Slices `[starts, ends)` with `steps` on `axes`; a step of −1 with start −1 and end −∞ reverses an axis. */
export function slice(
  x: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
  steps: readonly number[] = axes.map(() => 1),
): Tensor {
  return apply('Slice', [x], {
    starts: [...starts],
    ends: [...ends],
    axes: normaliseAxes(axes, x.rank),
    steps: [...steps],
  });
}

/** Zero padding; `pads` is ONNX's [begin₀…beginₙ, end₀…endₙ]. */
export const pad = (x: Tensor, pads: readonly number[]) => apply('Pad', [x], { pads: [...pads] });

export interface ConvOptions {
  pads?: readonly number[];
  strides?: readonly number[];
  group?: number;
}

/** N-d convolution, weights (Cout, Cin/group, k…), zero padding `pads` = [begins…, ends…]. */
export function conv(x: Tensor, w: Tensor, bias?: Tensor, options: ConvOptions = {}): Tensor {
  const spatial = w.rank - 2;
  const attrs = {
    kernel_shape: w.shape.slice(2),
    pads: options.pads ? [...options.pads] : new Array(2 * spatial).fill(0),
    strides: options.strides ? [...options.strides] : new Array(spatial).fill(1),
    group: options.group ?? 1,
  };
  return apply('Conv', bias ? [x, w, bias] : [x, w], attrs);
}

export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: readonly number[];
}

export function convTranspose(x: Tensor, w: Tensor, options: ConvTransposeOptions = {}): Tensor {
  const spatial = w.rank - 2;
  return apply('ConvTranspose', [x, w], {
    kernel_shape: w.shape.slice(2),
    pads: options.pads ? [...options.pads] : new Array(2 * spatial).fill(0),
    strides: options.strides ? [...options.strides] : new Array(spatial).fill(1),
    output_padding: options.outputPadding ? [...options.outputPadding] : new Array(spatial).fill(0),
    group: options.group ?? 1,
  });
}

/** Max pooling without padding. */
export function maxPool(x: Tensor, kernel: readonly number[], strides: readonly number[] = kernel): Tensor {
  return apply('MaxPool', [x], { kernel_shape: [...kernel], strides: [...strides] });
}

/**
 * Integer up-sampling of the spatial axes: `linear` is PyTorch's bilinear/trilinear with align_corners=False,
 * `nearest` is PyTorch's nearest.
 */
export function upsample(x: Tensor, factor: number, mode: 'linear' | 'nearest'): Tensor {
  const scales = x.shape.map((_, i) => (i < 2 ? 1 : factor));
  return apply('Resize', [x], {
    roi: [],
    scales,
    mode,
    coordinate_transformation_mode: mode === 'linear' ? 'half_pixel' : 'asymmetric',
    nearest_mode: mode === 'nearest' ? 'floor' : undefined,
  });
}

/** See `OPS.BatchNormAffine`. */
export function batchNormAffine(
  z: Tensor,
  centred: Tensor,
  invStd: Tensor,
  gamma: Tensor,
  beta: Tensor,
): Tensor {
  return apply('BatchNormAffine', [z, centred, invStd, gamma, beta]);
}

/**
 * x·scale + shift per channel, scale and shift (1, C, 1…): a depthwise 1×1 conv — one pass over x where Mul and
 * Add make two — and always a 2D one (WebGPU has no grouped 3D conv): other ranks are viewed as (N, C, rest, 1).
 */
function channelAffine(x: Tensor, scale: Tensor, shift: Tensor): Tensor {
  const [batch, channels] = x.shape;
  const planar = x.rank === 4 ? x : reshape(x, [batch, channels, x.size / (batch * channels), 1]);
  const weights = reshape(scale, [channels, 1, 1, 1]);
  const y = conv(planar, weights, reshape(shift, [channels]), { group: channels });
  return x.rank === 4 ? y : reshape(y, x.shape);
}
