/**
 * The op table: for every op, its shape rule, how it is written to ONNX and its vector-Jacobian product.
 * Builders (`conv`, `add`, …) create nodes; `grad()` walks them backwards using the `vjp` column;
 * `toOnnx()` writes them using the `onnx` column. Longer gradient rules live in `rules.ts`.
 */
import * as rules from './rules.js';
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
  /** Attributes emitted as trailing int64 inputs, in this order (ONNX ≥ 13 takes axes, shapes and pads as inputs). */
  attrInputs?: readonly string[];
}

/** Gradients of the node's inputs given the gradient `g` of its output; `needs[i]` says which are wanted. */
export type Vjp = (g: Tensor, node: Tensor, needs: readonly boolean[]) => (Tensor | undefined)[];

export interface OpDef {
  infer(inputs: readonly Tensor[], attrs: Attrs): { shape: number[]; dtype?: ElementType };
  /** How the node is written to ONNX: one ONNX node, or (`lower`) a subgraph of primitive ops. */
  onnx: OnnxEmission | { lower: (node: Tensor) => Tensor };
  vjp?: Vjp;
}

type In = readonly Tensor[];
const same = (ins: In) => ({ shape: [...ins[0].shape] });
const broadcast = (op: string) => (ins: In) => ({ shape: broadcastShapes(ins[0].shape, ins[1].shape, op) });
const compare = (op: string) => (ins: In) => ({ ...broadcast(op)(ins), dtype: 'bool' as const });
const nums = (a: Attrs, key: string) => (a[key] as readonly number[] | undefined) ?? [];
const unb = rules.sumToShape;

export const OPS: Record<string, OpDef> = {
  Input: { infer: same, onnx: { type: 'Input' } },
  Constant: { infer: same, onnx: { type: 'Constant' } },
  Identity: { infer: same, onnx: { type: 'Identity' }, vjp: (g) => [g] },

  Add: {
    infer: broadcast('Add'),
    onnx: { type: 'Add' },
    vjp: (g, n) => [unb(g, n.inputs[0].shape), unb(g, n.inputs[1].shape)],
  },
  Sub: {
    infer: broadcast('Sub'),
    onnx: { type: 'Sub' },
    vjp: (g, n, need) => [unb(g, n.inputs[0].shape), need[1] ? unb(neg(g), n.inputs[1].shape) : undefined],
  },
  Mul: {
    infer: broadcast('Mul'),
    onnx: { type: 'Mul' },
    vjp: (g, n, need) => [
      need[0] ? unb(mul(g, n.inputs[1]), n.inputs[0].shape) : undefined,
      need[1] ? unb(mul(g, n.inputs[0]), n.inputs[1].shape) : undefined,
    ],
  },
  Div: {
    infer: broadcast('Div'),
    onnx: { type: 'Div' },
    vjp: (g, n, need) => [
      need[0] ? unb(div(g, n.inputs[1]), n.inputs[0].shape) : undefined,
      need[1] ? unb(neg(div(mul(g, n), n.inputs[1])), n.inputs[1].shape) : undefined,
    ],
  },
  Pow: { infer: broadcast('Pow'), onnx: { type: 'Pow' } },
  Max: { infer: broadcast('Max'), onnx: { type: 'Max' } },
  Relu: { infer: same, onnx: { type: 'Relu' }, vjp: (g, n) => [where(greater(n, 0), g, 0)] },
  Sigmoid: { infer: same, onnx: { type: 'Sigmoid' }, vjp: (g, n) => [mul(g, mul(n, sub(1, n)))] },
  Sqrt: { infer: same, onnx: { type: 'Sqrt' }, vjp: (g, n) => [div(mul(g, 0.5), n)] },
  Abs: { infer: same, onnx: { type: 'Abs' }, vjp: (g, n) => [mul(g, sign(n.inputs[0]))] },
  Sign: { infer: same, onnx: { type: 'Sign' } },
  Equal: { infer: compare('Equal'), onnx: { type: 'Equal' } },
  Greater: { infer: compare('Greater'), onnx: { type: 'Greater' } },
  Where: {
    infer: (ins) => ({
      shape: broadcastShapes(ins[0].shape, broadcastShapes(ins[1].shape, ins[2].shape)),
      dtype: ins[1].dtype,
    }),
    onnx: { type: 'Where' },
    vjp: (g, n, need) => [
      undefined,
      need[1] ? unb(where(n.inputs[0], g, 0), n.inputs[1].shape) : undefined,
      need[2] ? unb(where(n.inputs[0], 0, g), n.inputs[2].shape) : undefined,
    ],
  },

  ReduceSum: {
    infer: rules.reduceShape,
    onnx: { type: 'ReduceSum', attrInputs: ['axes'] },
    vjp: (g, n) => [rules.expandReduced(g, n)],
  },
  ReduceMean: {
    // ONNX opset 17 still takes ReduceMean's axes as an attribute.
    infer: rules.reduceShape,
    onnx: { type: 'ReduceMean' },
    vjp: (g, n) => [mul(rules.expandReduced(g, n), n.size / n.inputs[0].size)],
  },
  Reshape: {
    infer: (ins, a) => rules.reshapeShape(ins[0], nums(a, 'shape')),
    onnx: { type: 'Reshape', attrInputs: ['shape'] },
    vjp: (g, n) => [reshape(g, n.inputs[0].shape)],
  },
  Transpose: {
    infer: (ins, a) => ({ shape: nums(a, 'perm').map((p) => ins[0].shape[p]) }),
    onnx: { type: 'Transpose' },
    vjp: (g, n) => [transpose(g, rules.inversePermutation(nums(n.attrs, 'perm')))],
  },
  Expand: {
    infer: (ins, a) => ({ shape: broadcastShapes(ins[0].shape, nums(a, 'shape'), 'Expand') }),
    onnx: { type: 'Expand', attrInputs: ['shape'] },
    vjp: (g, n) => [unb(g, n.inputs[0].shape)],
  },
  Concat: {
    infer: rules.concatShape,
    onnx: { type: 'Concat' },
    vjp: (g, n, need) => rules.concatGrad(g, n, need),
  },
  Slice: {
    infer: rules.sliceShape,
    onnx: { type: 'Slice', attrInputs: ['starts', 'ends', 'axes', 'steps'] },
    vjp: (g, n) => [rules.sliceGrad(g, n)],
  },
  Pad: {
    infer: (ins, a) => ({
      shape: ins[0].shape.map((d, i) => d + nums(a, 'pads')[i] + nums(a, 'pads')[i + ins[0].rank]),
    }),
    onnx: { type: 'Pad', attrInputs: ['pads'] },
    vjp: (g, n) => [rules.padGrad(g, n)],
  },
  MatMul: {
    infer: rules.matmulShape,
    onnx: { type: 'MatMul' },
    vjp: (g, n, need) => rules.matmulGrad(g, n, need),
  },

  Conv: {
    infer: rules.convShape,
    onnx: { type: 'Conv' },
    vjp: (g, n, need) => [
      need[0] ? rules.convInputGrad(g, n) : undefined,
      need[1] ? rules.convWeightGrad(g, n) : undefined,
      need[2] ? reduceSum(g, rules.nonChannelAxes(g.rank), false) : undefined,
    ],
  },
  ConvTranspose: { infer: rules.convTransposeShape, onnx: { type: 'ConvTranspose' } },
  MaxPool: { infer: rules.poolShape, onnx: { type: 'MaxPool' }, vjp: (g, n) => [rules.maxPoolGrad(g, n)] },
  Resize: {
    infer: (ins, a) => ({ shape: ins[0].shape.map((d, i) => d * nums(a, 'scales')[i]) }),
    onnx: { type: 'Resize', attrInputs: ['roi:float', 'scales:float'] },
    vjp: (g, n) => [rules.resizeGrad(g, n)],
  },
  /**
   * Batch norm in training mode after its statistics: y = xc · invstd · γ + β, where xc = z − mean(z) and
   * invstd = 1/√(var(z)+ε) come from `z` and γ, β are (1, C, 1…). One node so that its gradient is the
   * three-term formula, reusing dγ and dβ, and the statistics' subgraphs are never differentiated.
   */
  BatchNormAffine: {
    infer: (ins) => ({ shape: [...ins[0].shape] }),
    onnx: { lower: (n) => add(mul(mul(n.inputs[1], n.inputs[2]), n.inputs[3]), n.inputs[4]) },
    vjp: (g, n, need) => rules.batchNormGrad(g, n, need),
  },
};

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
export const abs = (x: Tensor) => apply('Abs', [x]);
export const sign = (x: Tensor) => apply('Sign', [x]);
export const identity = (x: Tensor) => apply('Identity', [x]);
export const equal = (a: Operand, b: Operand) => apply('Equal', [lift(a), lift(b)]);
export const greater = (a: Operand, b: Operand) => apply('Greater', [lift(a), lift(b)]);
export const where = (cond: Tensor, a: Operand, b: Operand) => apply('Where', [cond, lift(a), lift(b)]);
export const matmul = (a: Tensor, b: Tensor) => apply('MatMul', [a, b]);

export const reduceSum = (x: Tensor, axes: readonly number[], keepdims = true) =>
  apply('ReduceSum', [x], { axes: normaliseAxes(axes, x.rank), keepdims: keepdims ? 1 : 0 });
export const reduceMean = (x: Tensor, axes: readonly number[], keepdims = true) =>
  apply('ReduceMean', [x], { axes: normaliseAxes(axes, x.rank), keepdims: keepdims ? 1 : 0 });
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
