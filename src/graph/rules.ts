/**
 * Shape rules and the longer gradient rules of the op table. The fast forms come from the engine prototype
 * (DESIGN.md): a conv's dX is a conv with transposed, flipped weights; its dW is an im2col (a constant one-hot
 * conv) followed by a batched MatMul; MaxPool's gradient is Equal + Where against the up-sampled maximum.
 */
import {
  add,
  conv,
  convTranspose,
  equal,
  expand,
  matmul,
  mul,
  pad,
  reduceSum,
  reshape,
  slice,
  sub,
  transpose,
  upsample,
  where,
} from './ops.js';
import {
  type Attrs,
  broadcastShapes,
  constant,
  GraphError,
  product,
  sameShape,
  type Tensor,
} from './tensor.js';

type In = readonly Tensor[];
const nums = (a: Attrs, key: string) => (a[key] as readonly number[] | undefined) ?? [];
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Axes 0 and 2… — everything but the channel axis of an (N, C, …) tensor. */
export const nonChannelAxes = (rank: number) => [0, ...range(2, rank)];

/** Sums a broadcast gradient back to the shape of the operand that was broadcast. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes = [
    ...range(0, lead),
    ...shape.flatMap((d, i) => (d === 1 && g.shape[i + lead] !== 1 ? [i + lead] : [])),
  ];
  const summed = axes.length > 0 ? reduceSum(g, axes, true) : g;
  return reshape(summed, shape);
}

export function reduceShape(ins: In, a: Attrs) {
  const axes = nums(a, 'axes');
  const keep = a['keepdims'] !== 0;
  const shape = ins[0].shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
  return { shape };
}

/** Gradient of a reduction: the output gradient broadcast back over the reduced axes. */
export function expandReduced(g: Tensor, n: Tensor): Tensor {
  const x = n.inputs[0];
  const axes = nums(n.attrs, 'axes');
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return expand(reshape(g, kept), x.shape);
}

export function reshapeShape(x: Tensor, target: readonly number[]) {
  const known = product(target.filter((d) => d !== -1));
  const shape = target.map((d) => (d === -1 ? x.size / known : d));
  if (product(shape) !== x.size) {
    throw new GraphError(`cannot reshape [${x.shape}] to [${target}]`, 'Reshape');
  }
  return { shape };
}

export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

export function concatShape(ins: In, a: Attrs) {
  const axis = a['axis'] as number;
  const shape = [...ins[0].shape];
  for (const t of ins.slice(1)) {
    if (t.rank !== shape.length || t.shape.some((d, i) => i !== axis && d !== shape[i])) {
      throw new GraphError(`cannot concatenate [${t.shape}] to [${ins[0].shape}] on axis ${axis}`, 'Concat');
    }
    shape[axis] += t.shape[axis];
  }
  return { shape };
}

export function concatGrad(g: Tensor, n: Tensor, need: readonly boolean[]): (Tensor | undefined)[] {
  const axis = n.attrs['axis'] as number;
  let offset = 0;
  return n.inputs.map((t, i) => {
    const start = offset;
    offset += t.shape[axis];
    return need[i] ? slice(g, [start], [offset], [axis]) : undefined;
  });
}

/** ONNX Slice semantics: negative indices count from the end, out-of-range indices are clamped. */
function sliceBounds(d: number, start: number, end: number, step: number) {
  const s0 = start < 0 ? start + d : start;
  const e0 = end < 0 ? end + d : end;
  if (step > 0) {
    const s = Math.min(Math.max(s0, 0), d);
    const e = Math.min(Math.max(e0, 0), d);
    return { start: s, length: Math.max(0, Math.ceil((e - s) / step)) };
  }
  const s = Math.min(Math.max(s0, 0), d - 1);
  const e = Math.min(Math.max(e0, -1), d - 1);
  return { start: s, length: Math.max(0, Math.ceil((s - e) / -step)) };
}

export function sliceShape(ins: In, a: Attrs) {
  const shape = [...ins[0].shape];
  const steps = nums(a, 'steps');
  nums(a, 'axes').forEach((axis, i) => {
    shape[axis] = sliceBounds(shape[axis], nums(a, 'starts')[i], nums(a, 'ends')[i], steps[i] ?? 1).length;
  });
  return { shape };
}

export function sliceGrad(g: Tensor, n: Tensor): Tensor {
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

export function padGrad(g: Tensor, n: Tensor): Tensor {
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

export function matmulShape(ins: In) {
  const [a, b] = ins;
  if (a.rank < 2 || b.rank < 2 || a.shape[a.rank - 1] !== b.shape[b.rank - 2]) {
    throw new GraphError(`cannot multiply [${a.shape}] by [${b.shape}]`, 'MatMul');
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
  return { shape: [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]] };
}

const swapLast = (t: Tensor) => transpose(t, [...range(0, t.rank - 2), t.rank - 1, t.rank - 2]);

export function matmulGrad(g: Tensor, n: Tensor, need: readonly boolean[]): (Tensor | undefined)[] {
  const [a, b] = n.inputs;
  return [
    need[0] ? sumToShape(matmul(g, swapLast(b)), a.shape) : undefined,
    need[1] ? sumToShape(matmul(swapLast(a), g), b.shape) : undefined,
  ];
}

interface ConvGeometry {
  spatial: number;
  kernel: number[];
  pads: number[];
  strides: number[];
  group: number;
}

function convGeometry(a: Attrs): ConvGeometry {
  const kernel = [...nums(a, 'kernel_shape')];
  return {
    spatial: kernel.length,
    kernel,
    pads: [...nums(a, 'pads')],
    strides: [...nums(a, 'strides')],
    group: (a['group'] as number) ?? 1,
  };
}

export function convShape(ins: In, a: Attrs) {
  const [x, w, bias] = ins;
  const { spatial, kernel, pads, strides, group } = convGeometry(a);
  if (x.rank !== spatial + 2 || w.rank !== spatial + 2) {
    throw new GraphError(
      `input [${x.shape}] and weight [${w.shape}] must both have ${spatial + 2} dims`,
      'Conv',
    );
  }
  if (x.shape[1] !== w.shape[1] * group || w.shape[0] % group !== 0) {
    throw new GraphError(
      `input channels ${x.shape[1]} ≠ ${w.shape[1]}·${group} (weight [${w.shape}])`,
      'Conv',
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== w.shape[0])) {
    throw new GraphError(`bias [${bias.shape}] must be [${w.shape[0]}]`, 'Conv');
  }
  const out = x.shape
    .slice(2)
    .map((s, i) => Math.floor((s + pads[i] + pads[i + spatial] - kernel[i]) / strides[i]) + 1);
  return { shape: [x.shape[0], w.shape[0], ...out] };
}

export function convTransposeShape(ins: In, a: Attrs) {
  const [x, w] = ins;
  const { spatial, kernel, pads, strides, group } = convGeometry(a);
  const outPad = nums(a, 'output_padding');
  const out = x.shape
    .slice(2)
    .map((s, i) => strides[i] * (s - 1) + outPad[i] + kernel[i] - pads[i] - pads[i + spatial]);
  return { shape: [x.shape[0], w.shape[1] * group, ...out] };
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
export function convInputGrad(g: Tensor, n: Tensor): Tensor {
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

/** dW of a conv: im2col of the side with fewer channels by a one-hot conv, then a batched MatMul. */
export function convWeightGrad(g: Tensor, n: Tensor): Tensor {
  const [x, w] = n.inputs;
  const { spatial, kernel, pads, strides, group } = convGeometry(n.attrs);
  const [batch, cin] = x.shape;
  const [cout, cinG] = w.shape;
  const taps = product(kernel);
  const unitStride = strides.every((s) => s === 1);

  if (group === 1 && unitStride && cout < cin) {
    const inSize = x.shape.slice(2);
    const begins = kernel.map((k, i) => k - 1 - pads[i]);
    const ends = kernel.map((k, i) => k - 1 - pads[i + spatial]);
    const gRows = reshape(g, [batch * cout, 1, ...g.shape.slice(2)]);
    const cols = conv(gRows, oneHotKernel(kernel, true), undefined, { pads: [...begins, ...ends] });
    const gCols = reshape(cols, [batch, cout * taps, product(inSize)]);
    const xRows = reshape(x, [batch, cin, product(inSize)]);
    const summed = reduceSum(matmul(gCols, swapLast(xRows)), [0], false);
    const perTap = transpose(reshape(summed, [cout, taps, cin]), [0, 2, 1]);
    return reshape(perTap, w.shape);
  }

  const outSize = product(g.shape.slice(2));
  const xRows = reshape(x, [batch * cin, 1, ...x.shape.slice(2)]);
  const cols = conv(xRows, oneHotKernel(kernel, false), undefined, { pads, strides });
  const xCols = reshape(cols, [batch, group, cinG * taps, outSize]);
  const gGroups = reshape(g, [batch, group, cout / group, outSize]);
  const summed = reduceSum(matmul(gGroups, swapLast(xCols)), [0], false);
  return reshape(summed, w.shape);
}

export function poolShape(ins: In, a: Attrs) {
  const kernel = nums(a, 'kernel_shape');
  const strides = nums(a, 'strides');
  const out = ins[0].shape.slice(2).map((s, i) => Math.floor((s - kernel[i]) / strides[i]) + 1);
  return { shape: [ins[0].shape[0], ins[0].shape[1], ...out] };
}

/** Repeats every spatial element `factor[i]` times along axis i: nearest up-sampling (ORT's Resize is ~4× faster than Reshape + Expand here). */
function repeatSpatial(t: Tensor, factor: readonly number[]): Tensor {
  if (factor.every((f) => f === factor[0])) return upsample(t, factor[0], 'nearest');
  const [b, c, ...size] = t.shape;
  const split = [b, c, ...size.flatMap((s) => [s, 1])];
  const expanded = [b, c, ...size.flatMap((s, i) => [s, factor[i]])];
  return reshape(expand(reshape(t, split), expanded), [b, c, ...size.map((s, i) => s * factor[i])]);
}

/**
 * MaxPool's gradient goes to the inputs equal to their window's maximum (Equal + Where; works on every ORT
 * backend). Ties share the gradient; in a UNet they only occur at ReLU zeros, whose gradient is masked anyway.
 */
export function maxPoolGrad(g: Tensor, n: Tensor): Tensor {
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
    return where(equal(x, alignToInput(n)), alignToInput(g), 0);
  }
  if (strides.every((s) => s === 1)) {
    let total: Tensor | undefined;
    for (let tap = 0; tap < product(kernel); tap++) {
      const offset = unravel(tap, kernel);
      const pads = [0, 0, ...offset, 0, 0, ...offset.map((o, i) => kernel[i] - 1 - o)];
      const term = where(equal(x, pad(n, pads)), pad(g, pads), 0);
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

/** Applies (out × in) matrix `m` along `axis` of `t`, by MatMul with the axis moved last. */
function applyAlongAxis(t: Tensor, m: Float32Array, rows: number, cols: number, axis: number): Tensor {
  const last = t.rank - 1;
  const mT = constant(transposeMatrix(m, rows, cols), [cols, rows]);
  if (axis === last) return matmul(t, mT);
  const perm = range(0, t.rank);
  perm[axis] = last;
  perm[last] = axis;
  return transpose(matmul(transpose(t, perm), mT), perm);
}

function transposeMatrix(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

export function resizeGrad(g: Tensor, n: Tensor): Tensor {
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
export function batchNormGrad(g: Tensor, n: Tensor, need: readonly boolean[]): (Tensor | undefined)[] {
  const [z, centred, invStd, gamma] = n.inputs;
  const axes = nonChannelAxes(g.rank);
  const count = z.size / z.shape[1];
  const xhat = mul(centred, invStd);
  const dBeta = reduceSum(g, axes, true);
  const dGamma = reduceSum(mul(g, xhat), axes, true);
  const dz = mul(mul(gamma, invStd), sub(sub(g, mul(dBeta, 1 / count)), mul(xhat, mul(dGamma, 1 / count))));
  return [dz, undefined, undefined, need[3] ? dGamma : undefined, need[4] ? dBeta : undefined];
}
