/**
 * The gradient column of the op table: every differentiable op's vector-Jacobian product, built from ops.
 * `grad()` walks these backwards. The short rules are one line in `VJPS`; the longer ones follow it. Their fast
 * forms come from the engine prototype (DESIGN.md): a conv's (`convGrads.ts`) dX is a conv with transposed,
 * flipped weights, its dW an im2col (constant one-hot convs) followed by a batched MatMul; MaxPool's gradient is
 * Equal + Cast + Mul against the up-sampled maximum.
 */
import { convInputGrad, convWeightGrad, swapLast } from './convGrads.js';
import {
  add,
  div,
  equal,
  expand,
  greater,
  matmul,
  mul,
  neg,
  pad,
  reduceSum,
  reshape,
  scatterElementsAdd,
  sign,
  slice,
  sub,
  toFloat,
  transpose,
  upsample,
  where,
} from './ops.js';
import { nums, range, sliceBounds } from './shapes.js';
import { constant, GraphError, product, sameShape, type Tensor } from './tensor.js';

/** Gradients of the node's inputs given the gradient `g` of its output; `needs[i]` says which are wanted. */
export type Vjp = (g: Tensor, node: Tensor, needs: readonly boolean[]) => (Tensor | undefined)[];

/** Un-broadcast: the gradient summed back to the shape of an operand that was broadcast. */
const unb = sumToShape;

/** Ops without an entry (comparisons, Sign, Pow, Max, ReduceMax, ConvTranspose) have no gradient. */
export const VJPS: Record<string, Vjp> = {
  Identity: (g) => [g],
  StopGradient: () => [undefined],
  Add: (g, n) => [unb(g, n.inputs[0].shape), unb(g, n.inputs[1].shape)],
  Sub: (g, n, need) => [unb(g, n.inputs[0].shape), need[1] ? unb(neg(g), n.inputs[1].shape) : undefined],
  Mul: (g, n, need) => [
    need[0] ? unb(mul(g, n.inputs[1]), n.inputs[0].shape) : undefined,
    need[1] ? unb(mul(g, n.inputs[0]), n.inputs[1].shape) : undefined,
  ],
  Div: (g, n, need) => [
    need[0] ? unb(div(g, n.inputs[1]), n.inputs[0].shape) : undefined,
    need[1] ? unb(neg(div(mul(g, n), n.inputs[1])), n.inputs[1].shape) : undefined,
  ],
  // Mul by a 0/1 mask: ORT's Where (and Sign) run ~6× slower than Greater + Cast + Mul on the CPU.
  Relu: (g, n) => [mul(g, toFloat(greater(n, 0)))],
  Sigmoid: (g, n) => [mul(g, mul(n, sub(1, n)))],
  Sqrt: (g, n) => [div(mul(g, 0.5), n)],
  Exp: (g, n) => [mul(g, n)],
  Log: (g, n) => [div(g, n.inputs[0])],
  Abs: (g, n) => [mul(g, sign(n.inputs[0]))],
  Where: (g, n, need) => [
    undefined,
    need[1] ? unb(where(n.inputs[0], g, 0), n.inputs[1].shape) : undefined,
    need[2] ? unb(where(n.inputs[0], 0, g), n.inputs[2].shape) : undefined,
  ],

  ReduceSum: (g, n) => [expandReduced(g, n)],
  ReduceMean: (g, n) => [mul(expandReduced(g, n), n.size / n.inputs[0].size)],
  Reshape: (g, n) => [reshape(g, n.inputs[0].shape)],
  Transpose: (g, n) => [transpose(g, inversePermutation(nums(n.attrs, 'perm')))],
  Expand: (g, n) => [unb(g, n.inputs[0].shape)],
  Concat: concatGrad,
  Slice: (g, n) => [sliceGrad(g, n)],
  Pad: (g, n) => [padGrad(g, n)],
  MatMul: matmulGrad,
  // The index is data (an int64 input), never differentiated.
  GatherElements: (g, n) => [
    scatterElementsAdd(expand(constant(0), n.inputs[0].shape), n.inputs[1], g, n.attrs.axis as number),
    undefined,
  ],

  Conv: (g, n, need) => [
    need[0] ? convInputGrad(g, n) : undefined,
    need[1] ? convWeightGrad(g, n) : undefined,
    need[2] ? reduceSum(g, nonChannelAxes(g.rank), false) : undefined,
  ],
  MaxPool: (g, n) => [maxPoolGrad(g, n)],
  Resize: (g, n) => [resizeGrad(g, n)],
  BatchNormAffine: batchNormGrad,
};

/** Axes 0 and 2… — everything but the channel axis of an (N, C, …) tensor. */
const nonChannelAxes = (rank: number) => [0, ...range(2, rank)];

/** Sums a broadcast gradient back to the shape of the operand that was broadcast. */
function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes = [
    ...range(0, lead),
    ...shape.flatMap((d, i) => (d === 1 && g.shape[i + lead] !== 1 ? [i + lead] : [])),
  ];
  const summed = axes.length > 0 ? reduceSum(g, axes, true) : g;
  return reshape(summed, shape);
}

/** Gradient of a reduction: the output gradient broadcast back over the reduced axes. */
function expandReduced(g: Tensor, n: Tensor): Tensor {
  const x = n.inputs[0];
  const axes = nums(n.attrs, 'axes');
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return expand(reshape(g, kept), x.shape);
}

function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

function concatGrad(g: Tensor, n: Tensor, need: readonly boolean[]): (Tensor | undefined)[] {
  const axis = n.attrs['axis'] as number;
  let offset = 0;
  return n.inputs.map((t, i) => {
    const start = offset;
    offset += t.shape[axis];
    return need[i] ? slice(g, [start], [offset], [axis]) : undefined;
  });
}

function sliceGrad(g: Tensor, n: Tensor): Tensor {
  const x = n.inputs[0];
  const steps = nums(n.attrs, 'steps');
  if (steps.some((s) => s !== 1))
    throw new GraphError('gradient of a strided slice is not supported', 'Slice');
  const begins = new Array<number>(x.rank).fill(0);
  const ends = new Array<number>(x.rank).fill(0);
  nums(n.attrs, 'axes').forEach((axis, i) => {
    const { start, length } = sliceBounds(
      x.shape[axis],
      nums(n.attrs, 'starts')[i],
      nums(n.attrs, 'ends')[i],
      1,
    );
    begins[axis] = start;
    ends[axis] = x.shape[axis] - start - length;
  });
  return pad(g, [...begins, ...ends]);
}

function padGrad(g: Tensor, n: Tensor): Tensor {
  const x = n.inputs[0];
  const pads = nums(n.attrs, 'pads');
  const axes = range(0, x.rank);
  return slice(
    g,
    axes.map((i) => pads[i]),
    axes.map((i) => pads[i] + x.shape[i]),
    axes,
  );
}

function matmulGrad(g: Tensor, n: Tensor, need: readonly boolean[]): (Tensor | undefined)[] {
  const [a, b] = n.inputs;
  return [
    need[0] ? sumToShape(matmul(g, swapLast(b)), a.shape) : undefined,
    need[1] ? sumToShape(matmul(swapLast(a), g), b.shape) : undefined,
  ];
}

/**
 * Repeats every spatial element `factor[i]` times along axis i: nearest up-sampling. ORT's 2D Resize is ~4× faster
 * than Reshape + Expand; its 3D Resize is not (135 ms for a 3D step's 8×32×8×32×32), so 3D up-samples the planes
 * with the 2D Resize and repeats them along depth with Expand (contiguous copies).
 */
function repeatSpatial(t: Tensor, factor: readonly number[]): Tensor {
  const [b, c, ...size] = t.shape;
  const f = factor[0];
  if (factor.every((fi) => fi === f)) {
    if (size.length !== 3) return upsample(t, f, 'nearest');
    const [d, h, w] = size;
    const planes = upsample(reshape(t, [b * c * d, 1, h, w]), f, 'nearest');
    const perPlane = [b * c, d, 1, f * f * h * w];
    const repeated = expand(reshape(planes, perPlane), [b * c, d, f, f * f * h * w]);
    return reshape(repeated, [b, c, d * f, h * f, w * f]);
  }
  const split = [b, c, ...size.flatMap((s) => [s, 1])];
  const expanded = [b, c, ...size.flatMap((s, i) => [s, factor[i]])];
  return reshape(expand(reshape(t, split), expanded), [b, c, ...size.map((s, i) => s * factor[i])]);
}

/**
 * MaxPool's gradient goes to the inputs equal to their window's maximum (Equal, Cast, Mul; works on every ORT
 * backend). Ties share the gradient; in a UNet they only occur at ReLU zeros, whose gradient is masked anyway.
 */
function maxPoolGrad(g: Tensor, n: Tensor): Tensor {
  const x = n.inputs[0];
  const kernel = nums(n.attrs, 'kernel_shape');
  const strides = nums(n.attrs, 'strides');
  const inSize = x.shape.slice(2);
  if (strides.every((s, i) => s === kernel[i])) {
    const covered = n.shape.slice(2).map((o, i) => o * kernel[i]);
    const rest = inSize.map((s, i) => s - covered[i]);
    const tail = [0, 0, ...inSize.map(() => 0), 0, 0, ...rest];
    const alignToInput = (t: Tensor) =>
      rest.some((r) => r > 0) ? pad(repeatSpatial(t, kernel), tail) : repeatSpatial(t, kernel);
    return mul(alignToInput(g), toFloat(equal(x, alignToInput(n))));
  }
  if (strides.every((s) => s === 1)) {
    let total: Tensor | undefined;
    for (let tap = 0; tap < product(kernel); tap++) {
      const offset = unravel(tap, kernel);
      const pads = [0, 0, ...offset, 0, 0, ...offset.map((o, i) => kernel[i] - 1 - o)];
      const term = mul(pad(g, pads), toFloat(equal(x, pad(n, pads))));
      total = total ? add(total, term) : term;
    }
    return total!;
  }
  throw new GraphError('gradient needs stride 1 or stride = kernel', 'MaxPool');
}

function unravel(index: number, dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  for (let i = dims.length - 1; i >= 0; i--) {
    out[i] = index % dims[i];
    index = Math.floor(index / dims[i]);
  }
  return out;
}

/** (f·n × n) matrix of PyTorch's linear up-sampling with align_corners=False (source clamped at 0). */
export function linearUpsampleMatrix(n: number, factor: number): Float32Array {
  const out = n * factor;
  const m = new Float32Array(out * n);
  for (let i = 0; i < out; i++) {
    const src = Math.max((i + 0.5) / factor - 0.5, 0);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    const frac = src - i0;
    m[i * n + i0] += 1 - frac;
    m[i * n + i1] += frac;
  }
  return m;
}

/**
 * Applies (out × in) matrix `m` along `axis` of `t`: t·mᵀ on the last axis, else m·t with t viewed as
 * (before, in, after) — a broadcast MatMul, no transposes (which cost 3D steps ≈ 90 ms).
 */
function applyAlongAxis(t: Tensor, m: Float32Array, rows: number, cols: number, axis: number): Tensor {
  const shape = t.shape.map((d, i) => (i === axis ? rows : d));
  if (axis === t.rank - 1) return matmul(t, constant(transposeMatrix(m, rows, cols), [cols, rows]));
  const before = product(t.shape.slice(0, axis));
  const after = product(t.shape.slice(axis + 1));
  return reshape(matmul(constant(m, [rows, cols]), reshape(t, [before, cols, after])), shape);
}

function transposeMatrix(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

function resizeGrad(g: Tensor, n: Tensor): Tensor {
  const x = n.inputs[0];
  const scales = nums(n.attrs, 'scales');
  if (scales.slice(0, 2).some((s) => s !== 1) || scales.some((s) => !Number.isInteger(s))) {
    throw new GraphError('gradient needs integer spatial scales', 'Resize');
  }
  if (n.attrs['mode'] === 'nearest') {
    const [b, c, ...size] = x.shape;
    const split = reshape(g, [b, c, ...size.flatMap((s, i) => [s, scales[i + 2]])]);
    const axes = size.map((_, i) => 3 + 2 * i);
    return reshape(reduceSum(split, axes, false), x.shape);
  }
  let out = g;
  for (let axis = 2; axis < x.rank; axis++) {
    const small = x.shape[axis];
    const big = small * scales[axis];
    // The adjoint of up-sampling by A (big × small) is Aᵀ (small × big).
    const a = linearUpsampleMatrix(small, scales[axis]);
    out = applyAlongAxis(out, transposeMatrix(a, big, small), small, big, axis);
  }
  return out;
}

/**
 * Gradients of y = x̂·γ + β with x̂ = (z − mean z)·invstd, means over every axis but the channels (M values):
 * dβ = Σg, dγ = Σg·x̂, dz = γ·invstd·(g − dβ/M − x̂·dγ/M).
 */
function batchNormGrad(g: Tensor, n: Tensor, need: readonly boolean[]): (Tensor | undefined)[] {
  const [z, centred, invStd, gamma] = n.inputs;
  const axes = nonChannelAxes(g.rank);
  const count = z.size / z.shape[1];
  const dBeta = reduceSum(g, axes, true);
  const dGamma = mul(reduceSum(mul(g, centred), axes, true), invStd);
  // γ·invstd·(g − dβ/n − x̂·dγ/n) with x̂ = centred·invstd: the per-channel factors first, then two full-size
  // products and a sum.
  const scale = mul(gamma, invStd);
  const centredFactor = mul(mul(scale, invStd), mul(dGamma, -1 / count));
  const dz = add(mul(sub(g, mul(dBeta, 1 / count)), scale), mul(centred, centredFactor));
  return [dz, undefined, undefined, need[3] ? dGamma : undefined, need[4] ? dBeta : undefined];
}
