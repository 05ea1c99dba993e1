import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArraySource, ArrayWriter } from '../../src/io/memory.js';
import type { NDArray } from '../../src/io/types.js';
import {
  type AxesArray,
  chunkBlock,
  outputLayout,
  partitionRegions,
  planTiles,
  predictToWriter,
  regionsFromCuts,
  restrictGrid,
  tileAlignedCuts,
} from '../../src/prediction/index.js';
import { boxModel, gradientXModel } from './fakes.js';

function writerFor(input: AxesArray, outputAxes?: string) {
  const layout = outputLayout(input.axes, input.shape, 1);
  const axes = outputAxes ?? layout.axes;
  const shape = [...axes].map((letter) => layout.shape[layout.axes.indexOf(letter)]!);
  let closed: NDArray | undefined;
  const writer = new ArrayWriter(
    { axes, shape, dtype: 'float32', rules: { adjacentYX: false } },
    async (array) => {
      closed = array;
    },
  );
  return Object.assign(writer, { result: () => closed! });
}

describe('restrictGrid', () => {
  it('restricted to a partition of an axis, stitches every pixel exactly once, from the same tiles', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 64 }),
        (size, tileSteps, cut) => {
          const tile = 8 * tileSteps + 8;
          const grid = planTiles([size], [tile], [8], 8);
          const seen = new Array<number>(size).fill(0);
          for (let from = 0; from < size; from += cut) {
            const [axis] = restrictGrid(grid, [[from, Math.min(size, from + cut)]]);
            for (const t of axis!) {
              const original = grid[0]!.find((g) => g.start === t.start)!;
              expect(t.size).toBe(original.size);
              // The pasted part comes from the same tile pixels as in the whole-image grid.
              expect(t.cropStart - t.stitchStart).toBe(original.cropStart - original.stitchStart);
              for (let i = t.stitchStart; i < t.stitchStart + t.cropSize; i++) seen[i]! += 1;
            }
          }
          expect(seen.every((n) => n === 1)).toBe(true);
        },
      ),
    );
  });
});

describe('partitionRegions and chunkBlock', () => {
  it('covers the image once with blocks of whole chunks', () => {
    const shape = [3, 100, 70];
    const block = chunkBlock(shape, [1, 32, 32], 'SYX', { tiledAxes: 'YX', regionSize: 64 });
    expect(block).toEqual([1, 64, 64]);
    const regions = partitionRegions(shape, block);
    expect(regions).toHaveLength(3 * 2 * 2);
    const covered = new Uint8Array(3 * 100 * 70);
    for (const r of regions) {
      expect(r.start.every((s, i) => s % block[i]! === 0)).toBe(true);
      for (let s = r.start[0]!; s < r.stop[0]!; s++)
        for (let y = r.start[1]!; y < r.stop[1]!; y++)
          for (let x = r.start[2]!; x < r.stop[2]!; x++) covered[(s * 100 + y) * 70 + x]! += 1;
    }
    expect(covered.every((n) => n === 1)).toBe(true);
  });

  it('splits blocks down to single chunks until N workers all get a region', () => {
    const block = chunkBlock([128, 128], [32, 32], 'YX', {
      tiledAxes: 'YX',
      regionSize: 1024,
      minRegions: 4,
    });
    expect(partitionRegions([128, 128], block).length).toBeGreaterThanOrEqual(4);
    const tiny = chunkBlock([32, 32], [32, 32], 'YX', { tiledAxes: 'YX', regionSize: 1024, minRegions: 4 });
    expect(tiny).toEqual([32, 32]);
  });
});

describe('predictToWriter with outputRegion', () => {
  const input: AxesArray = {
    data: Float32Array.from({ length: 2 * 150 * 97 }, (_, i) => Math.cos(i * 0.13) * 20 + (i % 11)),
    shape: [2, 150, 97],
    axes: 'SYX',
  };
  const model = { depth: 2, inChannels: 1, outChannels: 1, is3D: false };

  it.each([
    ['box filter, output SYX', boxModel(3), undefined],
    ['X gradient, output XYS (writer axes in another order)', gradientXModel, 'XYS'],
  ])('regions predicted one by one give exactly the whole-image prediction (%s)', async (_, fn, axes) => {
    const options = { model, tileSize: [32, 48], tileOverlap: [8, 16], batchSize: 3 };
    const whole = writerFor(input, axes);
    await predictToWriter(new ArraySource(input, { axes: 'SYX' }), whole, fn, options);
    const pieces = writerFor(input, axes);
    const block = [...pieces.axes].map((letter) => ({ S: 1, Y: 40, X: 30 })[letter as 'S' | 'Y' | 'X']);
    const regions = partitionRegions(pieces.shape, block);
    expect(regions.length).toBe(2 * 4 * 4);
    for (const region of regions) {
      // Each region writes through a view of the shared writer, which closes once all are in.
      const view = {
        axes: pieces.axes,
        shape: pieces.shape,
        dtype: pieces.dtype,
        write: pieces.write.bind(pieces),
        close: async () => {},
        abort: async () => {},
      };
      await predictToWriter(new ArraySource(input, { axes: 'SYX' }), view, fn, {
        ...options,
        outputRegion: region,
      });
    }
    await pieces.close();
    expect(Buffer.from(pieces.result().data.buffer)).toEqual(Buffer.from(whole.result().data.buffer));
  });
});

describe('tileAlignedCuts', () => {
  it('cuts only between tiles, and splits until every worker has a region', () => {
    const grid = planTiles([1024, 1024], [256, 256], [48, 48], 4);
    const cuts = tileAlignedCuts(grid, { regionSize: 1024, minRegions: 4 });
    const starts = grid.map((axis) => axis.map((t) => t.stitchStart));
    for (const [a, axisCuts] of cuts.entries()) {
      expect(axisCuts[0]).toBe(0);
      expect(axisCuts[axisCuts.length - 1]).toBe(1024);
      for (const cut of axisCuts.slice(1, -1)) expect(starts[a]).toContain(cut);
    }
    const regions = regionsFromCuts(cuts);
    expect(regions).toHaveLength(4);
    // Restricted to its region, each tile is predicted for exactly one region.
    const used = regions.map((r) =>
      restrictGrid(grid, [
        [r.start[0]!, r.stop[0]!],
        [r.start[1]!, r.stop[1]!],
      ]).map((a) => a.length),
    );
    const total = used.reduce((n, [y, x]) => n + y! * x!, 0);
    expect(total).toBe(grid[0]!.length * grid[1]!.length);
  });
});
