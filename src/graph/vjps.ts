/**
 * The gradient column of the op table: every differentiable op's vector-Jacobian product, built from ops.
 * `grad()` walks these backwards. The short rules are one line in `VJPS`; the longer ones follow it. Their fast
 * forms come from the engine prototype (DESIGN.md): a conv's dX is a conv with transposed, flipped weights; its
 * dW is an im2col (a constant one-hot conv) followed by a batched MatMul; MaxPool's gradient is Equal + Cast + Mul
 * against the up-sampled maximum.
 */
import {
  add,
  conv,
  convTranspose,
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
import { convGeometry, nums, range, sliceBounds } from './shapes.js';
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

const swapLast = (t: Tensor) => transpose(t, [...range(0, t.rank - 2), t.rank - 1, t.rank - 2]);

function matmulGrad(g: Tensor, n: Tensor, need: readonly boolean[]): (Tensor | undefined)[] {
  const [a, b] = n.inputs;
  return [
    need[0] ? sumToShape(matmul(g, swapLast(b)), a.shape) : undefined,
    need[1] ? sumToShape(matmul(swapLast(a), g), b.shape) : undefined,
  ];
}

/** Flips every spatial axis of a weight tensor. */
function flipSpatial(w: Tensor): Tensor {
  const axes = range(2, w.rank);
  return slice(
    w,
    axes.map(() => -1),
    axes.map(() => Number.MIN_SAFE_INTEGER),
    axes,
    axes.map(() => -1),
  );
}

/** dX of a conv: a conv with transposed, flipped weights at stride 1, else a ConvTranspose. */
function convInputGrad(g: Tensor, n: Tensor): Tensor {
  const [x, w] = n.inputs;
  const { spatial, kernel, pads, strides, group } = convGeometry(n.attrs);
  const inSize = x.shape.slice(2);
  const outSize = g.shape.slice(2);
  if (strides.some((s) => s !== 1)) {
    const outputPadding = inSize.map(
      (s, i) => s - (strides[i] * (outSize[i] - 1) + kernel[i] - pads[i] - pads[i + spatial]),
    );
    return convTranspose(g, w, { pads, strides, group, outputPadding });
  }
  const [cout, cinG] = w.shape;
  const coutG = cout / group;
  const grouped = reshape(w, [group, coutG, cinG, ...kernel]);
  const swapped = transpose(grouped, [0, 2, 1, ...range(3, spatial + 3)]);
  const flipped = flipSpatial(reshape(swapped, [group * cinG, coutG, ...kernel]));
  const begins = kernel.map((k, i) => k - 1 - pads[i]);
  const ends = kernel.map((k, i) => inSize[i] - outSize[i] - begins[i] + k - 1);
  return conv(g, flipped, undefined, { pads: [...begins, ...ends], group });
}

/** A constant conv kernel (K, 1, k…) whose k-th filter picks kernel position k (or its mirror). */
function oneHotKernel(kernel: readonly number[], mirrored: boolean): Tensor {
  const taps = product(kernel);
  const values = new Float32Array(taps * taps);
  for (let k = 0; k < taps; k++) values[k * taps + (mirrored ? taps - 1 - k : k)] = 1;
  return constant(values, [taps, 1, ...kernel]);
}

/**
 * dW of a conv: an im2col by one-hot convs, then a batched MatMul. The im2col is the largest memory traffic of a
 * step (taps × channels copies), so the shifts are split where that copies less: those along one axis on the
 * output gradient, the others on the input (`splitShiftWeightGrad`); else all on the side with fewer channels.
 */
function convWeightGrad(g: Tensor, n: Tensor): Tensor {
  const [x, w] = n.inputs;
  const { spatial, kernel, pads, strides, group } = convGeometry(n.attrs);
  const [batch, cin] = x.shape;
  const [cout, cinG] = w.shape;
  const taps = product(kernel);
  const unitStride = strides.every((s) => s === 1);

  if (group === 1 && unitStride) {
    // The longest axis: its zero padding adds the least to the MatMul.
    const outSize = g.shape.slice(2);
    const axis = range(0, spatial)
      .filter((i) => kernel[i] > 1)
      .reduce((best, i) => (best < 0 || outSize[i] > outSize[best] ? i : best), -1);
    const rest = taps / kernel[axis];
    const copies = kernel[axis] * cout + rest * cin;
    if (axis >= 0 && rest > 1 && copies < taps * Math.min(cin, cout)) {
      return splitShiftWeightGrad(g, x, w.shape, kernel, pads, axis);
    }
  }

  if (group === 1 && unitStride && cout < cin) {
    const inSize = x.shape.slice(2);
    const begins = kernel.map((k, i) => k - 1 - pads[i]);
    const ends = kernel.map((k, i) => k - 1 - pads[i + spatial]);
    const gRows = reshape(g, [batch * cout, 1, ...g.shape.slice(2)]);
    const cols = conv(gRows, oneHotKernel(kernel, true), undefined, { pads: [...begins, ...ends] });
    const gCols = reshape(cols, [batch, cout * taps, product(inSize)]);
    const xRows = reshape(x, [batch, cin, product(inSize)]);
    const summed = batchSummedOuter(gCols, xRows);
    const perTap = transpose(reshape(summed, [cout, taps, cin]), [0, 2, 1]);
    return reshape(perTap, w.shape);
  }

  const outSize = product(g.shape.slice(2));
  const xRows = reshape(x, [batch * cin, 1, ...x.shape.slice(2)]);
  const cols = conv(xRows, oneHotKernel(kernel, false), undefined, { pads, strides });
  const xCols = reshape(cols, [batch, group, cinG * taps, outSize]);
  const gGroups = reshape(g, [batch, group, cout / group, outSize]);
  return reshape(batchSummedOuter(gGroups, xCols), w.shape);
}

/**
 * dW[o, i, t] = Σ g[o, q]·x[i, q + t] (q over output positions, x zero-padded) with the taps t split: along
 * `axis`, g is shifted (a mirrored one-hot conv along that axis alone, zero-padded to the padded input's length
 * there); along the other axes x is (a one-hot conv with kernel 1 on `axis`). Both then cover the same grid —
 * padded input along `axis`, output elsewhere — and one batched MatMul sums over it. For I = O = 32 in 3D this
 * copies 3·O + 9·I channels where a full im2col copies 27·I.
 */
function splitShiftWeightGrad(
  g: Tensor,
  x: Tensor,
  weightShape: readonly number[],
  kernel: readonly number[],
  pads: readonly number[],
  axis: number,
): Tensor {
  const [batch, cin] = x.shape;
  const [cout] = weightShape;
  const spatial = kernel.length;
  const shift = kernel[axis];
  const xKernel = kernel.map((k, i) => (i === axis ? 1 : k));
  const xCols = conv(
    reshape(x, [batch * cin, 1, ...x.shape.slice(2)]),
    oneHotKernel(xKernel, false),
    undefined,
    {
      pads,
    },
  );
  const gKernel = kernel.map((k, i) => (i === axis ? k : 1));
  const gPad = kernel.map((k, i) => (i === axis ? k - 1 : 0));
  const gShifted = conv(
    reshape(g, [batch * cout, 1, ...g.shape.slice(2)]),
    oneHotKernel(gKernel, true),
    undefined,
    {
      pads: [...gPad, ...gPad],
    },
  );
  const grid = product(xCols.shape.slice(2));
  const rest = product(xKernel);
  const summed = batchSummedOuter(
    reshape(gShifted, [batch, cout * shift, grid]),
    reshape(xCols, [batch, cin * rest, grid]),
  );
  // (O, shift tap, I, other taps…) → (O, I, taps in kernel order).
  const others = range(0, spatial).filter((i) => i !== axis);
  const perm = [0, 2, ...range(0, spatial).map((i) => (i === axis ? 1 : 3 + others.indexOf(i)))];
  const split = reshape(summed, [cout, shift, cin, ...others.map((i) => kernel[i])]);
  return reshape(transpose(split, perm), weightShape);
}

/**
 * Σ over the batch of a·bᵀ for a (B, …, m, k) and b (B, …, n, k): (…, m, n). The taller operand goes on the
 * left: MLAS runs these long-K products faster that way (a 288×4096 · 4096×32 GEMM in 70 % of the time of its
 * transpose, docs/benchmarks.md), and only the small summed result is transposed back. Below 8 rows the short
 * side is better left on the left.
 */
function batchSummedOuter(a: Tensor, b: Tensor): Tensor {
  const [m, n] = [a.shape[a.rank - 2], b.shape[b.rank - 2]];
  if (n <= m || m < 8) return reduceSum(matmul(a, swapLast(b)), [0], false);
  return swapLast(reduceSum(matmul(b, swapLast(a)), [0], false));
}

/**
 * Repeats every spatial element `factor[i]` times along axis i: nearest up-sampling. ORT's 2D Resize is ~4× faster
 * than Reshape + Expand; its 3D Resize is not (135 ms for a 3D step's 8×32×8×32×32), so 3D up-samples the planes
 * with the 2D Resize and repeats them along depth with Expand (contiguous copies).
 */
function repeatSpatial(t: Tensor, factor: readonly number[]): Tensor {
  const [b, c, ...size] = t.shape;
  if (size.length === 3 && factor.every((f) => f === factor[0])) {
    const [f, [d, h, w]] = [factor[0], size];
    const planes = upsample(reshape(t, [b * c * d, 1, h, w]), f, 'nearest');
    const perPlane = [b * c, d, 1, f * f * h * w];
    const repeated = expand(reshape(planes, perPlane), [b * c, d, f, f * f * h * w]);
    return reshape(repeated, [b, c, d * f, h * f, w * f]);
  }
  if (factor.every((f) => f === factor[0])) return upsample(t, factor[0], 'nearest');
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
