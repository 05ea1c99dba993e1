/** The shape rules of the op table: each op's output shape from its inputs and attributes, checked. */
import { type Attrs, broadcastShapes, GraphError, product, type Tensor } from './tensor.js';

type In = readonly Tensor[];

/** A numeric-list attribute, `[]` when absent. */
export const nums = (a: Attrs, key: string) => (a[key] as readonly number[] | undefined) ?? [];
export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

export function reduceShape(ins: In, a: Attrs) {
  const axes = nums(a, 'axes');
  const keep = a['keepdims'] !== 0;
  const shape = ins[0].shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
  return { shape };
}

export function reshapeShape(x: Tensor, target: readonly number[]) {
  const known = product(target.filter((d) => d !== -1));
  const shape = target.map((d) => (d === -1 ? x.size / known : d));
  if (product(shape) !== x.size) {
    throw new GraphError(`cannot reshape [${x.shape}] to [${target}]`, 'Reshape');
  }
  return { shape };
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

/** ONNX Slice semantics: negative indices count from the end, out-of-range indices are clamped. */
export function sliceBounds(d: number, start: number, end: number, step: number) {
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

export function matmulShape(ins: In) {
  const [a, b] = ins;
  if (a.rank < 2 || b.rank < 2 || a.shape[a.rank - 1] !== b.shape[b.rank - 2]) {
    throw new GraphError(`cannot multiply [${a.shape}] by [${b.shape}]`, 'MatMul');
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
  return { shape: [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]] };
}

export interface ConvGeometry {
  spatial: number;
  kernel: number[];
  pads: number[];
  strides: number[];
  group: number;
}

export function convGeometry(a: Attrs): ConvGeometry {
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

export function poolShape(ins: In, a: Attrs) {
  const kernel = nums(a, 'kernel_shape');
  const strides = nums(a, 'strides');
  const out = ins[0].shape.slice(2).map((s, i) => Math.floor((s - kernel[i]) / strides[i]) + 1);
  return { shape: [ins[0].shape[0], ins[0].shape[1], ...out] };
}
