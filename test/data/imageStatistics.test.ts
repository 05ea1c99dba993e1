import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  groupedMoments,
  imageStatistics,
  QuantileEstimator,
  Rng,
  statisticsSlabs,
  WelfordStatistics,
} from '../../src/data/index.js';
import { ArraySource } from '../../src/io/memory.js';
import { extractRegion } from '../../src/io/ndarray.js';

function direct(values: number[]) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { min: Math.min(...values), max: Math.max(...values), mean, std: Math.sqrt(variance) };
}

it('streams slabs to the same min, max, mean and population std as one pass', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 2, max: 6 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 1000 }),
      async (planes, side, slabValues, seed) => {
        const data = Float32Array.from(
          { length: planes * side * side },
          (_, i) => Math.sin(i * seed) * 100 + seed,
        );
        const source = new ArraySource({ data, shape: [planes, side, side] }, { axes: 'ZYX' });
        const stats = await imageStatistics(source, { slabValues });
        const expected = direct(Array.from(data));
        expect(stats.min).toBe(expected.min);
        expect(stats.max).toBe(expected.max);
        expect(stats.mean).toBeCloseTo(expected.mean, 6);
        expect(stats.std).toBeCloseTo(expected.std, 6);
      },
    ),
    { numRuns: 40 },
  );
});

describe('streaming statistics for training (statisticsSlabs)', () => {
  it('covers the first axis exactly once, in whole chunks, each slab near the requested size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5000 }),
        (shape, chunk, slabValues) => {
          const slabs = statisticsSlabs(shape, chunk, slabValues);
          let next = 0;
          for (const { start, stop } of slabs) {
            expect(start[0]).toBe(next);
            expect(start.slice(1).every((s) => s === 0)).toBe(true);
            expect(stop.slice(1)).toEqual(shape.slice(1));
            if (stop[0] !== shape[0]) expect((stop[0] - start[0]) % chunk).toBe(0);
            next = stop[0];
          }
          expect(next).toBe(shape[0]);
        },
      ),
    );
  });

  it('Welford over slabs matches the two-pass mean and std of the whole image to float64 round-off', () => {
    const rng = new Rng(4);
    const shape = [37, 64, 50];
    const data = Float32Array.from({ length: 37 * 64 * 50 }, () => 1000 + rng.normal(0, 30));
    const streamed = new WelfordStatistics(1);
    for (const region of statisticsSlabs(shape, 1, 10_000)) {
      streamed.update(extractRegion({ data, shape }, region), 'ZYX');
    }
    let sum = 0;
    for (const v of data) sum += v;
    const mean = sum / data.length;
    let m2 = 0;
    for (const v of data) m2 += (v - mean) ** 2;
    expect(Math.abs(streamed.mean[0] - mean)).toBeLessThan(1e-9 * mean);
    expect(Math.abs(streamed.std(0) - Math.sqrt(m2 / data.length))).toBeLessThan(1e-9);
  });

  it('the histogram quantile estimate streamed over slabs is within 1e-4 of the range of the exact quantile', () => {
    // Values whose range grows slab after slab, so the histogram has to widen (merge bins) several times.
    const rng = new Rng(9);
    const shape = [40, 100, 100];
    const data = new Float32Array(40 * 100 * 100);
    for (let s = 0; s < 40; s++) {
      const spread = 2 ** (s / 4);
      for (let i = 0; i < 10_000; i++) data[s * 10_000 + i] = rng.normal(100, 5 * spread) + (s % 3) * spread;
    }
    const estimator = new QuantileEstimator([0.01], [0.99]);
    for (const region of statisticsSlabs(shape, 1, 20_000)) {
      estimator.update(extractRegion({ data, shape }, region), 'ZYX');
    }
    const stats = estimator.finalize() as { lowers: number[]; uppers: number[] };
    const sorted = Float64Array.from(data).sort();
    const exact = (q: number) => {
      // numpy's default (linear) quantile.
      const at = q * (sorted.length - 1);
      const lo = Math.floor(at);
      return sorted[lo] + (at - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]);
    };
    const range = sorted[sorted.length - 1] - sorted[0];
    expect(Math.abs(stats.lowers[0] - exact(0.01))).toBeLessThan(1e-4 * range);
    expect(Math.abs(stats.uppers[0] - exact(0.99))).toBeLessThan(1e-4 * range);
  });
});

it('groups by any axes (e.g. sample and channel) with the same moments as a direct pass, slabs or not', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 4, maxLength: 4 }),
      fc.subarray([0, 1, 2, 3]),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 1000 }),
      async (shape, groupAxes, slabValues, seed) => {
        const total = shape.reduce((a, b) => a * b, 1);
        const data = Float32Array.from({ length: total }, (_, i) => Math.sin(i * seed) * 50 + (i % 7) * seed);
        const source = new ArraySource({ data, shape }, { axes: 'SCYX' });
        const got = await groupedMoments(source, groupAxes, { slabValues });
        const sizes = groupAxes.map((a) => shape[a]!);
        const groups: number[][] = Array.from({ length: sizes.reduce((a, b) => a * b, 1) }, () => []);
        const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
        for (let i = 0; i < total; i++) {
          const index = shape.map((n, a) => Math.floor(i / strides[a]!) % n);
          const g = groupAxes.reduce((acc, a, k) => acc * sizes[k]! + index[a]!, 0);
          groups[g]!.push(data[i]!);
        }
        groups.forEach((values, g) => {
          const expected = direct(values);
          expect(got.mean[g]).toBeCloseTo(expected.mean, 6);
          expect(got.std[g]).toBeCloseTo(expected.std, 6);
        });
      },
    ),
    { numRuns: 60 },
  );
});
