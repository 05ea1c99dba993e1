import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseTileSize,
  DEFAULT_TILE_OVERLAP,
  defaultOverlap,
  estimatePeakMemory,
  planAxisTiles,
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
  /** The old rule, as an oracle: the largest uniform edge that fits, capped per axis at the image. */
  function largestFitting(shape: number[], batchSize: number, budgetBytes: number): number[] {
    const caps = shape.map((s) => Math.ceil(s / 4) * 4);
    const fits = (t: number[]) =>
      estimatePeakMemory({ tileShape: t, imageWidth: shape[1]!, batchSize, model }) <= budgetBytes;
    for (let edge = Math.max(...caps); edge > 52; edge -= 4) {
      const tile = caps.map((cap) => Math.min(cap, edge));
      if (fits(tile)) return tile;
    }
    return caps.map((cap) => Math.min(cap, 52));
  }
  const count = (size: number, tile: number) => planAxisTiles(size, tile, 48, 4).length;

  it('needs as few tiles as the largest fitting tile, and is the smallest tile that does', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 })),
        fc.integer({ min: 1, max: 8 }),
        fc.double({ min: 1e5, max: 1e10, noNaN: true }),
        (shape, batchSize, budgetBytes) => {
          const tile = chooseTileSize({ spatialShape: shape, model, batchSize, budgetBytes });
          const largest = largestFitting(shape, batchSize, budgetBytes);
          tile.forEach((t, i) => {
            expect(t % 4).toBe(0);
            expect(t).toBeLessThanOrEqual(largest[i]!);
            expect(count(shape[i]!, t)).toBe(count(shape[i]!, largest[i]!));
            if (t - 4 > 48 && shape[i]! > t)
              expect(count(shape[i]!, t - 4)).toBeGreaterThan(count(shape[i]!, t));
          });
        },
      ),
    );
  });

  it('grows with the budget and spreads the overlap over equal tiles', () => {
    const small = chooseTileSize({ spatialShape: [2048, 2048], model, batchSize: 1, budgetBytes: 2e7 });
    const large = chooseTileSize({ spatialShape: [2048, 2048], model, batchSize: 1, budgetBytes: 2e9 });
    expect(small[0]).toBeLessThan(large[0]!);
    // s² (800 + 2·4) + 2 · s · 2048 · 4 · 2 ≤ 2e9 → s ≤ 1553.6 → 1552, two tiles per axis; two tiles of
    // ⌈(2048 + 48) / 2⌉ = 1048 cover 2048 as well.
    expect(large).toEqual([1048, 1048]);
    expect(planAxisTiles(2048, 1048, 48, 4)).toHaveLength(2);
  });

  it('balances with the overlaps it is given', () => {
    const tile = chooseTileSize({
      spatialShape: [2048, 2048],
      model,
      batchSize: 1,
      budgetBytes: 2e9,
      tileOverlap: [96, 96],
    });
    expect(tile).toEqual([1072, 1072]);
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
