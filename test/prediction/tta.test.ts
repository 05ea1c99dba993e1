import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AxesArray,
  orient,
  type PredictFn,
  predict,
  rot90,
  TTA_ORIENTATIONS,
  unorient,
  withTTA,
} from '../../src/prediction/index.js';
import { boxModel, counted, gradientXModel, pointwiseModel } from './fakes.js';

const m23 = Float32Array.from([1, 2, 3, 4, 5, 6]);

/**
 * The 8 symmetries of a rectangle, written independently of `TTA_ORIENTATIONS`: every combination of a transpose
 * and flips along Y and X of the last two axes.
 */
const SYMMETRIES = [false, true].flatMap((transpose) =>
  [false, true].flatMap((flipY) => [false, true].map((flipX) => ({ transpose, flipY, flipX }))),
);
type Symmetry = (typeof SYMMETRIES)[number];

/** The transformed shape and, for each of its elements, the index of the input element it holds. */
function sourceIndices(shape: readonly number[], s: Symmetry): { indices: number[]; shape: number[] } {
  const h = shape.at(-2)!;
  const w = shape.at(-1)!;
  const planes = shape.slice(0, -2).reduce((p, n) => p * n, 1);
  const [oh, ow] = s.transpose ? [w, h] : [h, w];
  const indices: number[] = [];
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const y = s.flipY ? oh - 1 - i : i;
        const x = s.flipX ? ow - 1 - j : j;
        indices.push(p * h * w + (s.transpose ? x * w + y : y * w + x));
      }
    }
  }
  return { indices, shape: [...shape.slice(0, -2), oh, ow] };
}

/**
 * TTA computed from scratch: the model on each transformed input, each output moved back to where its pixel came
 * from, then the mean (in float64).
 */
async function expectedTTA(
  data: ArrayLike<number>,
  shape: number[],
  run: (data: Float32Array, shape: number[]) => Promise<{ data: ArrayLike<number>; shape: number[] }>,
): Promise<Float64Array> {
  const sum = new Float64Array(data.length);
  for (const s of SYMMETRIES) {
    const { indices, shape: transformed } = sourceIndices(shape, s);
    const output = await run(
      Float32Array.from(indices, (k) => data[k]!),
      transformed,
    );
    expect(output.shape).toEqual(transformed);
    indices.forEach((k, n) => {
      sum[k]! += output.data[n]!;
    });
  }
  return sum.map((v) => v / SYMMETRIES.length);
}

/** Neither shift- nor rotation-invariant: weights depend on the row and the left neighbour. */
const skewModel: PredictFn = async (batch, shape) => {
  const h = shape.at(-2)!;
  const w = shape.at(-1)!;
  const out = batch.map((v, k) => {
    const i = Math.floor(k / w) % h;
    const j = k % w;
    return v * (1 + 0.1 * i) + (j > 0 ? 0.5 * batch[k - 1]! : 0) + 0.01 * j;
  });
  return { data: out, shape: [...shape] };
};

describe('orientations', () => {
  it('rotate like numpy.rot90 and list the legacy tta.py transforms in order', () => {
    expect(rot90(m23, [2, 3], 1)).toEqual({ data: Float32Array.from([3, 6, 2, 5, 1, 4]), shape: [3, 2] });
    expect(rot90(m23, [2, 3], 3)).toEqual({ data: Float32Array.from([4, 1, 5, 2, 6, 3]), shape: [3, 2] });
    const all = TTA_ORIENTATIONS.map((o) => Array.from(orient(m23, [2, 3], o).data));
    expect(all).toEqual([
      [1, 2, 3, 4, 5, 6], // identity
      [3, 6, 2, 5, 1, 4], // rot90 ×1
      [6, 5, 4, 3, 2, 1], // rot90 ×2
      [4, 1, 5, 2, 6, 3], // rot90 ×3
      [4, 5, 6, 1, 2, 3], // flip Y
      [3, 2, 1, 6, 5, 4], // flip X
      [1, 4, 2, 5, 3, 6], // rot90 then flip Y
      [6, 3, 5, 2, 4, 1], // rot90 then flip X
    ]);
  });

  it('are undone by unorient on any batch of planes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 0, max: 7 }),
        (shape, which) => {
          const size = shape.reduce((p, s) => p * s, 1);
          const data = Float32Array.from({ length: size }, (_, i) => i);
          const o = TTA_ORIENTATIONS[which]!;
          const there = orient(data, shape, o);
          expect(unorient(there.data, there.shape, o)).toEqual({ data, shape });
        },
      ),
    );
  });
});

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('withTTA', () => {
  it('is the mean of the model on the 8 transformed batches, each transformed back', async () => {
    for (const shape of [
      [2, 1, 6, 10],
      [1, 2, 7, 7],
      [1, 1, 3, 2, 5],
    ]) {
      const size = shape.reduce((p, n) => p * n, 1);
      const data = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 1.3) + (i % 3) * 0.2);
      const tta = await withTTA(skewModel)(data, shape);
      expect(tta.shape).toEqual(shape);
      const expected = await expectedTTA(data, shape, (d, s) => skewModel(d, s));
      const plain = await skewModel(data, shape);
      expect(maxDifference(plain.data, expected)).toBeGreaterThan(0.1);
      expect(maxDifference(tta.data, expected)).toBeLessThan(1e-5);
    }
  });
});

describe('predict with tta', () => {
  const input: AxesArray = {
    data: Float32Array.from({ length: 45 * 38 }, (_, i) => Math.sin(i * 0.37) * 50 + (i % 7)),
    shape: [45, 38],
    axes: 'YX',
  };
  // Non-square tiles: rotated tiles reach the model with Y and X swapped.
  const options = {
    model: { depth: 2, inChannels: 1, outChannels: 1, is3D: false },
    tileSize: [16, 24],
    tileOverlap: [4, 4],
  };

  it('equals no TTA for models that commute with rotations and flips', async () => {
    for (const model of [pointwiseModel((x) => 2 * x + 1), boxModel(1)]) {
      const plain = await predict(input, model, options);
      const tta = await predict(input, model, { ...options, tta: true });
      for (let i = 0; i < plain.data.length; i++) expect(tta.data[i]).toBeCloseTo(plain.data[i]!, 4);
    }
    const doubled = await predict(
      input,
      pointwiseModel((x) => 2 * x + 1),
      { ...options, tta: true },
    );
    expect(doubled.data[100]).toBeCloseTo(2 * input.data[100]! + 1, 4);
  });

  it('transforms only Y and X of 3D multichannel tiles', async () => {
    const volume: AxesArray = {
      data: Float32Array.from({ length: 2 * 9 * 13 * 11 }, (_, i) => Math.sin(i * 0.7) * 10),
      shape: [2, 9, 13, 11],
      axes: 'CZYX',
    };
    const out = await predict(
      volume,
      pointwiseModel((x) => 2 * x + 1),
      {
        model: { depth: 1, inChannels: 2, outChannels: 2, is3D: true },
        tileSize: [4, 8, 6],
        tileOverlap: [2, 2, 2],
        tta: true,
      },
    );
    for (let i = 0; i < out.data.length; i++) expect(out.data[i]).toBeCloseTo(2 * volume.data[i]! + 1, 4);
  });

  it('is the mean of the model on the 8 transformed images, each transformed back', async () => {
    const tta = await predict(input, gradientXModel, { ...options, tta: true });
    const expected = await expectedTTA(input.data, input.shape, async (data, shape) =>
      predict({ data, shape, axes: 'YX' }, gradientXModel, options),
    );
    const plain = await predict(input, gradientXModel, options);
    expect(maxDifference(plain.data, expected)).toBeGreaterThan(1);
    // Relative to the output scale (tens): float32 sums of 8 such values differ in the last bits.
    expect(maxDifference(tta.data, expected)).toBeLessThan(
      1e-5 * maxDifference(expected, new Float64Array(expected.length)),
    );
  });

  it('calls the model 8 times per batch', async () => {
    const { model: counting, calls } = counted(pointwiseModel((x) => x));
    await predict(input, counting, {
      ...options,
      tileSize: [48, 40],
      tta: true,
    });
    expect(calls()).toBe(8);
  });
});
