import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AxisTile,
  isPredictionError,
  planAxisTiles,
  planTiles,
  reflectIndex,
  validateTiling,
} from '../../src/prediction/index.js';

/** Tile size, even overlap below it, multiple and axis size, all valid. */
const axisCase = fc
  .record({
    depth: fc.integer({ min: 0, max: 3 }),
    units: fc.integer({ min: 1, max: 12 }),
    size: fc.integer({ min: 1, max: 300 }),
  })
  .chain(({ depth, units, size }) => {
    const tile = units * 2 ** depth;
    return fc.record({
      multiple: fc.constant(2 ** depth),
      tile: fc.constant(tile),
      overlap: fc.integer({ min: 0, max: Math.floor((tile - 1) / 2) }).map((half) => 2 * half),
      size: fc.constant(size),
    });
  });

const pick = (tiles: AxisTile[], key: keyof AxisTile) => tiles.map((t) => t[key]);

describe('planAxisTiles', () => {
  it("matches CAREamics' _compute_1d_coords on worked examples", () => {
    // Legacy docstring: axis 35, tile 32 (overlap 24) → tiles (0, 32), (3, 35); stitched (0, 20), (20, 35).
    const short = planAxisTiles(35, 32, 24);
    expect(pick(short, 'start')).toEqual([0, 3]);
    expect(pick(short, 'stitchStart')).toEqual([0, 20]);
    expect(pick(short, 'cropStart')).toEqual([0, 17]);
    expect(pick(short, 'cropSize')).toEqual([20, 15]);
    const long = planAxisTiles(100, 32, 8);
    expect(pick(long, 'start')).toEqual([0, 24, 48, 68]);
    expect(pick(long, 'stitchStart')).toEqual([0, 28, 52, 76]);
    expect(pick(long, 'cropStart')).toEqual([0, 4, 4, 8]);
    expect(pick(long, 'cropSize')).toEqual([28, 24, 24, 24]);
  });

  it('gives a short axis one tile rounded up to the multiple, cropped back', () => {
    expect(planAxisTiles(10, 64, 48, 4)).toEqual([
      { start: 0, size: 12, cropStart: 0, cropSize: 10, stitchStart: 0 },
    ]);
  });

  it('covers every pixel exactly once after cropping, keeping overlap/2 of context at inner edges', () => {
    fc.assert(
      fc.property(axisCase, ({ multiple, tile, overlap, size }) => {
        const tiles = planAxisTiles(size, tile, overlap, multiple);
        let next = 0;
        for (const [i, t] of tiles.entries()) {
          expect(t.stitchStart).toBe(next);
          expect(t.stitchStart).toBe(t.start + t.cropStart);
          expect(t.cropSize).toBeGreaterThan(0);
          expect(t.cropStart + t.cropSize).toBeLessThanOrEqual(t.size);
          expect(t.size % multiple).toBe(0);
          expect(t.start).toBeGreaterThanOrEqual(0);
          if (tiles.length > 1) {
            expect(t.size).toBe(tile);
            expect(t.start + t.size).toBeLessThanOrEqual(size);
          }
          if (i > 0) expect(t.cropStart).toBeGreaterThanOrEqual(overlap / 2);
          if (i < tiles.length - 1)
            expect(t.size - t.cropStart - t.cropSize).toBeGreaterThanOrEqual(overlap / 2);
          next += t.cropSize;
        }
        expect(next).toBe(size);
      }),
      { numRuns: 500 },
    );
  });
});

describe('planTiles', () => {
  it('covers every voxel of a 3D shape exactly once', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 40 }),
        ),
        fc.constantFrom([4, 8, 8], [8, 16, 8], [4, 4, 12]),
        (shape, tile) => {
          const grid = planTiles(
            shape,
            tile,
            [2, 4, 6].map((o, i) => Math.min(o, tile[i]! - 2)),
            4,
          );
          const hits = new Uint8Array(shape[0] * shape[1] * shape[2]);
          for (const z of grid[0]!)
            for (const y of grid[1]!)
              for (const x of grid[2]!)
                for (let i = 0; i < z.cropSize; i++)
                  for (let j = 0; j < y.cropSize; j++)
                    for (let k = 0; k < x.cropSize; k++) {
                      hits[
                        ((z.stitchStart + i) * shape[1] + y.stitchStart + j) * shape[2] + x.stitchStart + k
                      ]! += 1;
                    }
          expect(hits.every((h) => h === 1)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('validateTiling', () => {
  it.each([
    [[30], [8], 4, /multiples of 4/],
    [[32], [7], 4, /even/],
    [[32], [32], 4, /smaller than the tile/],
    [[32, 32], [8], 4, /one overlap per tiled axis/],
  ])('rejects tile %j with overlap %j (multiple %i)', (tile, overlap, multiple, message) => {
    let error: unknown;
    try {
      validateTiling(tile, overlap, multiple);
    } catch (err) {
      error = err;
    }
    expect(isPredictionError(error, 'InvalidTiling')).toBe(true);
    expect(error).toMatchObject({ tileSize: tile, overlap, message: expect.stringMatching(message) });
  });
});

describe('reflectIndex', () => {
  it("is numpy's reflect, or the edge for a single pixel", () => {
    // np.pad(np.arange(3), (0, 6), 'reflect') → 0 1 2 1 0 1 2 1 0
    expect([...Array(9).keys()].map((i) => reflectIndex(i, 3))).toEqual([0, 1, 2, 1, 0, 1, 2, 1, 0]);
    expect(reflectIndex(5, 1)).toBe(0);
  });
});
