import fc from 'fast-check';
import { expect, it } from 'vitest';
import { groupedMoments, imageStatistics } from '../../src/data/index.js';
import { ArraySource } from '../../src/io/memory.js';

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
