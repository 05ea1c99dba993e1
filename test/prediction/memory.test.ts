import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseTileSize,
  DEFAULT_TILE_OVERLAP,
  defaultOverlap,
  estimatePeakMemory,
  resolveMemoryBudget,
  resolveOverlap,
} from '../../src/prediction/index.js';

const model = { depth: 2, inChannels: 1, outChannels: 1, is3D: false, bytesPerInputPixel: 800 };

describe('estimatePeakMemory', () => {
  it('adds the model, the batch tensors and two bands of tiles', () => {
    const bytes = estimatePeakMemory({ tileShape: [64, 64], imageWidth: 1000, batchSize: 2, model });
    expect(bytes).toBe(2 * 4096 * 800 + 2 * 4096 * 4 * 2 + 2 * 64 * 1000 * 4 * 2);
    expect(
      estimatePeakMemory({ tileShape: [64, 64], imageWidth: 1000, batchSize: 2, model, tta: true }),
    ).toBeGreaterThan(bytes);
  });
});

describe('chooseTileSize', () => {
  it('returns the largest fitting multiple of 2**depth, capped at the image rounded up', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 })),
        fc.integer({ min: 1, max: 8 }),
        fc.double({ min: 1e5, max: 1e10, noNaN: true }),
        (shape, batchSize, budgetBytes) => {
          const tile = chooseTileSize({ spatialShape: shape, model, batchSize, budgetBytes });
          const estimate = (t: number[]) =>
            estimatePeakMemory({ tileShape: t, imageWidth: shape[1], batchSize, model });
          tile.forEach((t, i) => {
            expect(t % 4).toBe(0);
            expect(t).toBeLessThanOrEqual(Math.ceil(shape[i]! / 4) * 4);
          });
          const minimum = tile.every((t, i) => t === Math.min(52, Math.ceil(shape[i]! / 4) * 4));
          if (!minimum) expect(estimate(tile)).toBeLessThanOrEqual(budgetBytes);
          const bigger = Math.max(...tile) + 4;
          const next = shape.map((s) => Math.min(Math.ceil(s / 4) * 4, bigger));
          if (next.some((t, i) => t !== tile[i])) expect(estimate(next)).toBeGreaterThan(budgetBytes);
        },
      ),
    );
  });

  it('grows with the budget', () => {
    const small = chooseTileSize({ spatialShape: [2048, 2048], model, batchSize: 1, budgetBytes: 2e7 });
    const large = chooseTileSize({ spatialShape: [2048, 2048], model, batchSize: 1, budgetBytes: 2e9 });
    expect(small[0]).toBeLessThan(large[0]!);
    // s² (800 + 2·4) + 2 · s · 2048 · 4 · 2 ≤ 2e9 → s ≤ 1553.6, rounded down to a multiple of 4.
    expect(large).toEqual([1552, 1552]);
  });
});

describe('overlap and budget defaults', () => {
  it('default to CAREamics 48, or twice the halo, capped below the tile', () => {
    expect(defaultOverlap(undefined)).toBe(DEFAULT_TILE_OVERLAP);
    expect(defaultOverlap(30.5)).toBe(62);
    expect(resolveOverlap([128, 32, 12], undefined)).toEqual([48, 30, 10]);
    expect(resolveOverlap([128], [16])).toEqual([16]);
    expect(resolveMemoryBudget({ availableMemoryBytes: 8e9 })).toBe(4e9);
    expect(
      resolveMemoryBudget({ availableMemoryBytes: 8e9, memoryFraction: 0.25, memoryBudgetBytes: 1e6 }),
    ).toBe(1e6);
  });
});
