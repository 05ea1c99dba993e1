import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCareamicsError } from '../../src/errors.js';
import { type AxesArray, isPredictionError, type PredictFn, predict } from '../../src/prediction/index.js';
import { boxFilter, boxModel, counted, identityModel, pointwiseModel } from './fakes.js';

function pseudoRandom(length: number, seed: number, scale = 100): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * scale;
  }
  return out;
}

function image(axes: string, shape: number[], seed = 1): AxesArray {
  return {
    data: pseudoRandom(
      shape.reduce((p, s) => p * s, 1),
      seed,
    ),
    shape,
    axes,
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A random image (any subset of S, T, C, Z plus Y, X, in any order) and valid tiling for a random model. */
const identityCase = fc
  .record({
    order: fc.shuffledSubarray([...'STCZYX'], { minLength: 6, maxLength: 6 }),
    keep: fc.subarray([...'STCZ']),
    sizes: fc.record({
      S: fc.integer({ min: 1, max: 2 }),
      T: fc.integer({ min: 1, max: 2 }),
      C: fc.integer({ min: 1, max: 3 }),
      Z: fc.integer({ min: 1, max: 9 }),
      Y: fc.integer({ min: 1, max: 40 }),
      X: fc.integer({ min: 1, max: 40 }),
    }),
    want3D: fc.boolean(),
    depth: fc.integer({ min: 0, max: 2 }),
    tileUnits: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 3, maxLength: 3 }),
    overlapHalves: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
    batchSize: fc.integer({ min: 1, max: 4 }),
    seed: fc.nat(),
  })
  .map((c) => {
    const axes = c.order.filter((l) => 'YX'.includes(l) || c.keep.includes(l)).join('');
    const shape = [...axes].map((l) => c.sizes[l as keyof typeof c.sizes]);
    const is3D = c.want3D && axes.includes('Z');
    const multiple = 2 ** c.depth;
    const tileSize = c.tileUnits.slice(is3D ? 0 : 1).map((u) => u * multiple);
    const tileOverlap = tileSize.map((t, i) => 2 * (c.overlapHalves[i]! % Math.ceil(t / 2)));
    const channels = axes.includes('C') ? c.sizes.C : 1;
    return {
      axes,
      shape,
      is3D,
      depth: c.depth,
      tileSize,
      tileOverlap,
      channels,
      batchSize: c.batchSize,
      seed: c.seed,
    };
  });

describe('predict with an identity model', () => {
  it('returns the input exactly for any shape, axes, tiles and overlaps', async () => {
    await fc.assert(
      fc.asyncProperty(identityCase, async (c) => {
        const input = image(c.axes, c.shape, c.seed);
        const out = await predict(input, identityModel(c.depth, c.channels), {
          model: { depth: c.depth, inChannels: c.channels, outChannels: c.channels, is3D: c.is3D },
          tileSize: c.tileSize,
          tileOverlap: c.tileOverlap,
          batchSize: c.batchSize,
        });
        expect(out.axes).toBe(c.axes);
        expect(out.shape).toEqual(c.shape);
        expect(out.data).toBeInstanceOf(Float32Array);
        expect(maxAbsDiff(out.data, input.data)).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('picks tiles itself when none are given, including one padded tile for the whole image', async () => {
    const input = image('YX', [150, 301]);
    const model = { depth: 2, inChannels: 1, outChannels: 1, is3D: false };
    for (const memoryBudgetBytes of [4e6, 1e12]) {
      let total = 0;
      const out = await predict(input, identityModel(2), {
        model,
        memoryBudgetBytes,
        onProgress: (_, n) => {
          total = n;
        },
      });
      expect(maxAbsDiff(out.data, input.data)).toBe(0);
      if (memoryBudgetBytes === 1e12) expect(total).toBe(1);
      else expect(total).toBeGreaterThan(1);
    }
  });
});

describe('padding', () => {
  it('pads short axes by reflection (edge for a single pixel) up to a multiple of 2**depth', async () => {
    const seen: { data: number[]; shape: number[] }[] = [];
    const spy: PredictFn = async (batch, shape) => {
      seen.push({ data: Array.from(batch), shape });
      return { data: batch, shape };
    };
    const facts = { depth: 2, inChannels: 1, outChannels: 1, is3D: false };
    const data = Float32Array.from({ length: 15 }, (_, i) => Math.floor(i / 5) * 10 + (i % 5));
    await predict({ data, shape: [3, 5], axes: 'YX' }, spy, { model: facts });
    await predict({ data: data.subarray(0, 5), shape: [1, 5], axes: 'YX' }, spy, { model: facts });
    const cols = [0, 1, 2, 3, 4, 3, 2, 1];
    expect(seen[0]).toEqual({
      shape: [1, 1, 4, 8],
      data: [0, 1, 2, 1].flatMap((r) => cols.map((c) => r * 10 + c)),
    });
    expect(seen[1]).toEqual({ shape: [1, 1, 4, 8], data: [0, 0, 0, 0].flatMap(() => cols) });
  });
});

describe('tiled prediction equals untiled when overlap / 2 covers the receptive field', () => {
  it.each([
    { axes: 'CYX', shape: [2, 70, 53], is3D: false, depth: 2, tileSize: [32, 24], radius: 3, batchSize: 3 },
    {
      axes: 'ZYX',
      shape: [20, 37, 29],
      is3D: true,
      depth: 1,
      tileSize: [8, 16, 16],
      radius: 2,
      batchSize: 2,
    },
  ])(
    '$axes with a box filter of radius $radius',
    async ({ axes, shape, is3D, depth, tileSize, radius, batchSize }) => {
      const input = image(axes, shape);
      const channels = axes.includes('C') ? shape[0]! : 1;
      const expected = boxFilter(
        input.data as Float32Array,
        [1, channels, ...shape.slice(axes.includes('C') ? 1 : 0)],
        radius,
      );
      const options = {
        model: { depth, inChannels: channels, outChannels: channels, is3D },
        tileSize,
        batchSize,
      };
      const tiled = await predict(input, boxModel(radius), {
        ...options,
        tileOverlap: tileSize.map(() => 2 * radius),
      });
      expect(maxAbsDiff(tiled.data, expected)).toBeLessThan(1e-4);
      // The same tiles with too little overlap show seams: the comparison can fail.
      const seams = await predict(input, boxModel(radius), {
        ...options,
        tileOverlap: tileSize.map(() => 2 * radius - 2),
      });
      expect(maxAbsDiff(seams.data, expected)).toBeGreaterThan(1e-2);
    },
  );
});

describe('tiled equals untiled, as a property', () => {
  it('holds for random 2D images at least a tile large, radii and overlaps ≥ 2 × radius', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 })),
        fc.integer({ min: 1, max: 3 }),
        async (radius, extraHalf, extraSize, batchSize) => {
          const tileSize = [16, 24];
          const shape = [2, 16 + extraSize[0], 24 + extraSize[1]];
          const input = image('CYX', shape, radius + 7 * extraHalf);
          const expected = boxFilter(input.data as Float32Array, [1, ...shape], radius);
          const out = await predict(input, boxModel(radius), {
            model: { depth: 3, inChannels: 2, outChannels: 2, is3D: false },
            tileSize,
            tileOverlap: [2 * (radius + extraHalf), 2 * (radius + extraHalf)],
            batchSize,
          });
          expect(maxAbsDiff(out.data, expected)).toBeLessThan(1e-4);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('normalization', () => {
  const model = { depth: 0, inChannels: 2, outChannels: 2, is3D: false };
  const zeros: PredictFn = async (batch, shape) => ({ data: new Float32Array(batch.length), shape });

  it('feeds the model (x − μ) / (σ + 1e-6) and denormalizes its output', async () => {
    const seen: number[] = [];
    const spy: PredictFn = async (batch, shape) => {
      seen.push(...batch);
      return { data: batch.slice(), shape };
    };
    const input: AxesArray = {
      data: new Float32Array([14, 14, 14, 14, -1, -1, -1, -1]),
      shape: [2, 2, 2],
      axes: 'CYX',
    };
    const normalization = { mean: [10, -3], std: [4, 2] };
    const out = await predict(input, spy, { model, tileSize: [2, 2], normalization });
    for (const v of seen) expect(v).toBeCloseTo(1, 5);
    expect(maxAbsDiff(out.data, input.data)).toBeLessThan(1e-5);
    const constant = await predict(input, zeros, { model, tileSize: [2, 2], normalization });
    expect(Array.from(constant.data)).toEqual([10, 10, 10, 10, -3, -3, -3, -3]);
  });

  it('uses target stats for the output, required when channel counts differ', async () => {
    const input = image('YX', [5, 6]);
    const three: PredictFn = async (batch, shape) => ({
      data: new Float32Array(batch.length * 3),
      shape: [shape[0]!, 3, ...shape.slice(2)],
    });
    const facts = { depth: 0, inChannels: 1, outChannels: 3, is3D: false };
    const out = await predict(input, three, {
      model: facts,
      normalization: { mean: [50], std: [20], targetMean: [1, 2, 3], targetStd: [1, 1, 1] },
    });
    expect(out.axes).toBe('CYX');
    expect(out.shape).toEqual([3, 5, 6]);
    expect([out.data[0], out.data[30], out.data[60]]).toEqual([1, 2, 3]);
    const { model: counting, calls } = counted(three);
    const err = await caught(
      predict(input, counting, {
        model: facts,
        normalization: { mean: [50], std: [20] },
      }),
    );
    expect(isPredictionError(err, 'InvalidNormalization')).toBe(true);
    expect(calls()).toBe(0);
  });
});

describe('output dtype', () => {
  it('casts back to the input dtype with rounding and clipping', async () => {
    const input: AxesArray = { data: new Uint16Array([0, 1, 2, 60000]), shape: [2, 2], axes: 'YX' };
    const model = { depth: 0, inChannels: 1, outChannels: 1, is3D: false };
    const out = await predict(
      input,
      pointwiseModel((x) => 2 * x - 1.4),
      { model, outputDtype: 'input' },
    );
    expect(out.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(out.data)).toEqual([0, 1, 3, 65535]);
    const float = await predict(
      input,
      pointwiseModel((x) => 2 * x - 1.4),
      { model },
    );
    expect(float.data).toBeInstanceOf(Float32Array);
    expect(float.data[0]).toBeCloseTo(-1.4, 6);
  });
});

describe('errors before the model runs', () => {
  const input = image('CYX', [2, 16, 16]);
  it.each([
    ['IncompatibleModel', { depth: 0, inChannels: 1, outChannels: 1, is3D: false }, {}],
    ['IncompatibleModel', { depth: 0, inChannels: 2, outChannels: 2, is3D: true }, {}],
    ['InvalidTiling', { depth: 2, inChannels: 2, outChannels: 2, is3D: false }, { tileSize: [10, 16] }],
    [
      'InvalidTiling',
      { depth: 2, inChannels: 2, outChannels: 2, is3D: false },
      { tileSize: [8, 8], tileOverlap: [3, 2] },
    ],
  ])('%s', async (tag, model, extra) => {
    const { model: counting, calls } = counted(identityModel(0, 2));
    const err = await caught(predict(input, counting, { model, ...extra }));
    expect(isCareamicsError(err, tag)).toBe(true);
    expect(calls()).toBe(0);
  });

  it('reports a model whose output does not match the tile', async () => {
    const bad: PredictFn = async (b, s) => ({ data: b.subarray(1), shape: [s[0]!, s[1]!, s[2]!, s[3]! - 1] });
    const err = await caught(
      predict(input, bad, { model: { depth: 0, inChannels: 2, outChannels: 2, is3D: false } }),
    );
    expect(isPredictionError(err, 'ModelOutputShape')).toBe(true);
    expect(err).toMatchObject({ shape: [1, 2, 16, 15], expected: [1, 2, 16, 16] });
  });
});

describe('predict with per-sample standardization', () => {
  const model = { depth: 2, inChannels: 2, outChannels: 2, is3D: false };
  const mean = [
    [1, 2],
    [30, 40],
  ];
  const std = [
    [2, 4],
    [5, 8],
  ];

  it('standardizes each tile with its sample and channel statistics, and does not denormalize', async () => {
    const input = image('SCYX', [2, 2, 20, 24], 5);
    const out = await predict(input, identityModel(2, 2), {
      model,
      tileSize: [8, 8],
      tileOverlap: [4, 4],
      batchSize: 3,
      standardization: { mean, std, eps: 1e-6 },
    });
    const plane = 20 * 24;
    const want = Float32Array.from(input.data, (v, i) => {
      const s = Math.floor(i / (2 * plane));
      const c = Math.floor(i / plane) % 2;
      return (v - mean[s]![c]!) / (std[s]![c]! + 1e-6);
    });
    expect(maxAbsDiff(out.data, want)).toBeLessThan(1e-5);
  });

  it('refuses statistics for another number of samples, or both normalizations', async () => {
    const input = image('SCYX', [3, 2, 16, 16]);
    const wrong = await caught(
      predict(input, identityModel(2, 2), { model, standardization: { mean, std, eps: 0 } }),
    );
    expect(isPredictionError(wrong, 'InvalidNormalization')).toBe(true);
    expect((wrong as Error).message).toMatch(/for each of the 3 sample\(s\), or for one/);
    const both = await caught(
      predict(input, identityModel(2, 2), {
        model,
        normalization: { mean: [0, 0], std: [1, 1] },
        standardization: { mean: [mean[0]!], std: [std[0]!], eps: 0 },
      }),
    );
    expect((both as Error).message).toBe('give normalization or standardization, not both');
  });
});
