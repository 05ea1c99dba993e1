import { describe, it } from 'vitest';
import {
  abs,
  add,
  batchNormAffine,
  concat,
  conv,
  div,
  exp,
  expand,
  gatherElements,
  greater,
  log,
  matmul,
  maxPool,
  mul,
  pad,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  sigmoid,
  slice,
  sqrt,
  sub,
  Tensor,
  transpose,
  upsample,
  where,
} from '../../src/graph/index.js';
import { checkGradients, type GradCase } from '../helpers/gradcheck.js';

/** Values in ±[0.1, 1]: away from the kinks of ReLU and Abs. */
const awayFromZero = (r: () => number) => (r() < 0.5 ? -1 : 1) * (0.1 + 0.9 * r());
const positive = (r: () => number) => 0.5 + r();

function batchNorm(z: Tensor, gamma: Tensor, beta: Tensor): Tensor {
  const axes = [0, ...z.shape.slice(2).map((_, i) => i + 2)];
  const centred = sub(z, reduceMean(z, axes));
  const invStd = div(1, sqrt(add(reduceMean(mul(centred, centred), axes), 1e-5)));
  return batchNormAffine(z, centred, invStd, gamma, beta);
}

/** An int64 constant of indices into [0, bound), seeded; repeats on purpose (their gradients must add up). */
function indexConstant(shape: number[], bound: number, seed: number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = BigInt64Array.from({ length: size }, (_, i) => BigInt((i * 7 + seed) % bound));
  return new Tensor('Constant', [], {}, shape, 'int64', values);
}

const cases: Record<string, GradCase[]> = {
  Add: [
    {
      shapes: [
        [2, 3, 4],
        [2, 3, 4],
      ],
      build: add,
    },
    {
      shapes: [
        [2, 3, 4],
        [3, 1],
      ],
      build: add,
    },
  ],
  Sub: [
    {
      shapes: [
        [2, 3, 4],
        [1, 4],
      ],
      build: sub,
    },
  ],
  Mul: [
    {
      shapes: [
        [2, 3, 4],
        [2, 3, 4],
      ],
      build: mul,
    },
    { shapes: [[4], [2, 3, 4]], build: mul },
  ],
  Div: [
    {
      shapes: [
        [2, 3, 4],
        [3, 1],
      ],
      build: div,
      sample: positive,
    },
  ],
  Relu: [{ shapes: [[3, 5, 7]], build: relu, sample: awayFromZero }],
  Sigmoid: [{ shapes: [[3, 5]], build: sigmoid }],
  Sqrt: [{ shapes: [[3, 5]], build: sqrt, sample: positive }],
  Exp: [{ shapes: [[3, 5]], build: exp }],
  Log: [{ shapes: [[3, 5]], build: log, sample: positive }],
  Abs: [{ shapes: [[3, 5]], build: abs, sample: awayFromZero }],
  Where: [
    {
      shapes: [
        [2, 6],
        [2, 6],
        [2, 6],
      ],
      build: (c, a, b) => where(greater(c, 0), a, b),
      sample: awayFromZero,
      differentiable: [1, 2],
    },
    {
      shapes: [[2, 6], [2, 6], [1]],
      build: (c, a, b) => where(greater(c, 0), a, b),
      sample: awayFromZero,
      differentiable: [1, 2],
    },
  ],
  ReduceSum: [
    { shapes: [[2, 3, 4]], build: (x) => reduceSum(x, [1], true) },
    { shapes: [[2, 3, 4]], build: (x) => reduceSum(x, [0, 2], false) },
  ],
  ReduceMean: [
    { shapes: [[2, 3, 4]], build: (x) => reduceMean(x, [2], true) },
    { shapes: [[2, 3, 4, 5]], build: (x) => reduceMean(x, [0, 2, 3], false) },
  ],
  Reshape: [{ shapes: [[2, 3, 4]], build: (x) => reshape(x, [4, -1]) }],
  Transpose: [
    { shapes: [[2, 3, 4]], build: (x) => transpose(x, [2, 0, 1]) },
    { shapes: [[2, 3, 4, 5]], build: (x) => transpose(x, [1, 0, 3, 2]) },
  ],
  Expand: [{ shapes: [[3, 1]], build: (x) => expand(x, [2, 3, 4]) }],
  Concat: [
    {
      shapes: [
        [2, 3, 4],
        [2, 1, 4],
        [2, 2, 4],
      ],
      build: (a, b, c) => concat([a, b, c], 1),
    },
    {
      shapes: [
        [2, 3],
        [2, 5],
      ],
      build: (a, b) => concat([a, b], -1),
    },
  ],
  Slice: [
    { shapes: [[4, 6, 5]], build: (x) => slice(x, [1, 2], [3, -1], [0, 2]) },
    { shapes: [[4, 6]], build: (x) => slice(x, [-3], [100], [1]) },
  ],
  Pad: [{ shapes: [[2, 3, 4]], build: (x) => pad(x, [0, 1, 2, 1, 0, 3]) }],
  MatMul: [
    {
      shapes: [
        [3, 4],
        [4, 5],
      ],
      build: matmul,
    },
    {
      shapes: [
        [2, 3, 4],
        [4, 5],
      ],
      build: matmul,
    },
    {
      shapes: [
        [2, 2, 3, 4],
        [2, 1, 4, 5],
      ],
      build: matmul,
    },
  ],
  Conv: [
    { shapes: [[2, 3, 7, 6], [4, 3, 3, 3], [4]], build: (x, w, b) => conv(x, w, b, { pads: [1, 1, 1, 1] }) },
    {
      shapes: [
        [2, 6, 5, 5],
        [2, 6, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 1, 1, 1] }),
    },
    {
      shapes: [
        [2, 4, 6, 6],
        [6, 2, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 1, 1, 1], group: 2 }),
    },
    {
      shapes: [
        [1, 2, 9, 8],
        [3, 2, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 1, 1, 1], strides: [2, 2] }),
    },
    {
      shapes: [
        [2, 4, 5, 5],
        [4, 1, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 1, 1, 1], strides: [2, 2], group: 4 }),
    },
    // Eight or more output channels and more im2col rows than that: dW's GEMM runs with the im2col on the left.
    {
      shapes: [
        [2, 3, 6, 5],
        [8, 3, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 1, 1, 1] }),
    },
    {
      shapes: [
        [1, 4, 5, 5],
        [16, 2, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 1, 1, 1], group: 2 }),
    },
    // dW with the shifts split between g (along the longest axis) and x (the others), asymmetric padding.
    {
      shapes: [
        [1, 3, 6, 5],
        [3, 3, 3, 2],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 0, 2, 1] }),
    },
    {
      shapes: [
        [1, 2, 4, 5, 6],
        [2, 2, 3, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [0, 1, 1, 1, 0, 1] }),
    },
    { shapes: [[2, 5, 4, 4], [2, 5, 1, 1], [2]], build: (x, w, b) => conv(x, w, b) },
    {
      shapes: [
        [1, 2, 5, 6],
        [3, 2, 3, 2],
      ],
      build: (x, w) => conv(x, w),
    },
    {
      shapes: [
        [1, 2, 4, 5, 5],
        [3, 2, 3, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 1, 1, 1, 1, 1] }),
    },
    {
      shapes: [
        [1, 4, 4, 5, 5],
        [2, 4, 3, 3, 3],
      ],
      build: (x, w) => conv(x, w, undefined, { pads: [1, 1, 1, 1, 1, 1] }),
    },
  ],
  MaxPool: [
    { shapes: [[2, 3, 6, 8]], build: (x) => maxPool(x, [2, 2]), distinct: true },
    { shapes: [[1, 2, 7, 5]], build: (x) => maxPool(x, [2, 2]), distinct: true },
    { shapes: [[1, 2, 6, 6]], build: (x) => maxPool(x, [2, 2], [1, 1]), distinct: true },
    { shapes: [[1, 2, 4, 6, 6]], build: (x) => maxPool(x, [2, 2, 2]), distinct: true },
    { shapes: [[1, 2, 4, 6]], build: (x) => maxPool(x, [1, 2]), distinct: true },
  ],
  Resize: [
    { shapes: [[2, 3, 4, 5]], build: (x) => upsample(x, 2, 'linear') },
    { shapes: [[1, 2, 3, 4, 4]], build: (x) => upsample(x, 2, 'linear') },
    { shapes: [[2, 3, 4, 5]], build: (x) => upsample(x, 2, 'nearest') },
  ],
  GatherElements: [
    { shapes: [[2, 3, 5]], build: (x) => gatherElements(x, indexConstant([2, 3, 7], 5, 1), 2) },
    { shapes: [[4, 3]], build: (x) => gatherElements(x, indexConstant([2, 3], 4, 2), 0) },
  ],
  BatchNormAffine: [
    {
      shapes: [
        [4, 3, 5, 5],
        [1, 3, 1, 1],
        [1, 3, 1, 1],
      ],
      build: batchNorm,
    },
    {
      shapes: [
        [2, 2, 3, 4, 4],
        [1, 2, 1, 1, 1],
        [1, 2, 1, 1, 1],
      ],
      build: batchNorm,
    },
  ],
};

describe('finite-difference gradient check of every op rule', () => {
  for (const [op, opCases] of Object.entries(cases)) {
    opCases.forEach((c, i) => {
      it(`${op} #${i + 1} ${c.shapes.map((s) => `[${s}]`).join(' ')}`, async () => {
        await checkGradients(c, 17 + i);
      });
    });
  }
});
