import fc from 'fast-check';
import { expect, it } from 'vitest';
import { imageStatistics } from '../../src/data/index.js';
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
