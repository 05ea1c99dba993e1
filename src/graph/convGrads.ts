/**
 * The gradients of a convolution, the largest part of a training step: dX is a conv with transposed, flipped
 * weights (a ConvTranspose for strides); dW is an im2col by one-hot convs followed by a batched MatMul, with the
 * shifts split between the two operands where that copies less (docs/benchmarks.md measures each choice).
 */
import { conv, convTranspose, matmul, reshape, slice, transpose } from './ops.js';
import { convGeometry, range } from './shapes.js';
import { constant, ones, product, type Tensor } from './tensor.js';

/** Swaps the last two axes. */
export const swapLast = (t: Tensor) => transpose(t, [...range(0, t.rank - 2), t.rank - 1, t.rank - 2]);

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

/**
 * dW of a conv: an im2col by one-hot convs, then a batched MatMul. The im2col is the largest memory traffic of a
 * step (taps × channels copies), so the shifts are split where that copies less: those along one axis on the
 * output gradient, the others on the input (`splitShiftWeightGrad`); else all on the side with fewer channels.
 */
export function convWeightGrad(g: Tensor, n: Tensor): Tensor {
  const [x, w] = n.inputs;
  const { spatial, kernel, pads, strides, group } = convGeometry(n.attrs);
  const [batch, cin] = x.shape;
  const [cout, cinG] = w.shape;
  const taps = product(kernel);
  const unitStride = strides.every((s) => s === 1);

  if (group === 1 && unitStride) {
    // The longest axis: its zero padding adds the least to the MatMul.
    const outShape = g.shape.slice(2);
    const axis = range(0, spatial)
      .filter((i) => kernel[i] > 1)
      .reduce((best, i) => (best < 0 || outShape[i] > outShape[best] ? i : best), -1);
    const rest = axis < 0 ? 1 : taps / kernel[axis];
    if (rest > 1 && kernel[axis] * cout + rest * cin < taps * Math.min(cin, cout)) {
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
    { pads },
  );
  const gKernel = kernel.map((k, i) => (i === axis ? k : 1));
  const gPad = kernel.map((k, i) => (i === axis ? k - 1 : 0));
  const gShifted = conv(
    reshape(g, [batch * cout, 1, ...g.shape.slice(2)]),
    oneHotKernel(gKernel, true),
    undefined,
    { pads: [...gPad, ...gPad] },
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
  if (n <= m || m < 8) return sumOverBatch(matmul(a, swapLast(b)));
  return swapLast(sumOverBatch(matmul(b, swapLast(a))));
}

/**
 * Σ over the leading axis as a (1, B) · (B, rest) MatMul: ONNX Runtime's ReduceSum over a leading axis takes 6×
 * as long on the CPU (0.79 vs 0.13 ms for a 16 × 576 × 128 dW stack, docs/benchmarks.md).
 */
function sumOverBatch(t: Tensor): Tensor {
  const [batch, ...rest] = t.shape;
  return reshape(matmul(ones([1, batch]), reshape(t, [batch, product(rest)])), rest);
}
