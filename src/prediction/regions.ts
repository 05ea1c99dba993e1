/**
 * Prediction of part of an image: output regions that partition an image along its storage chunks, and the
 * tiles of the whole image's grid that stitch into one region. A region predicted with the whole image's tiles
 * holds exactly the pixels a whole-image prediction puts there, so regions predicted apart stitch to the same
 * image, byte for byte.
 */
import type { Region } from '../io/types.js';
import { PredictionError } from './errors.js';
import type { TileGrid } from './tiling.js';

/**
 * The tiles of `grid` whose stitched part meets `[from, to)` on each axis, their crop and stitch cut to it.
 * Tiles keep their start and size, so the model sees the same input as for the whole image.
 */
export function restrictGrid(grid: TileGrid, ranges: readonly (readonly [number, number])[]): TileGrid {
  return grid.map((axis, a) => {
    const [from, to] = ranges[a]!;
    return axis.flatMap((tile) => {
      const lo = Math.max(tile.stitchStart, from);
      const hi = Math.min(tile.stitchStart + tile.cropSize, to);
      if (hi <= lo) return [];
      return [
        { ...tile, cropStart: tile.cropStart + lo - tile.stitchStart, cropSize: hi - lo, stitchStart: lo },
      ];
    });
  });
}

/**
 * Boxes that partition `shape`, each `block` long on every axis (the last one along an axis cut by the border),
 * in C order. With `block` a multiple of the storage chunks, no two boxes share a chunk, so they can be written
 * concurrently.
 */
export function partitionRegions(shape: readonly number[], block: readonly number[]): Region[] {
  if (block.length !== shape.length || block.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new PredictionError(
      'InvalidOption',
      `region block [${block.join(', ')}] must be one positive integer per axis of [${shape.join(', ')}]`,
    );
  }
  let regions: Region[] = [{ start: [], stop: [] }];
  shape.forEach((size, axis) => {
    const next: Region[] = [];
    for (const region of regions) {
      for (let start = 0; start < size; start += block[axis]!) {
        next.push({
          start: [...region.start, start],
          stop: [...region.stop, Math.min(size, start + block[axis]!)],
        });
      }
    }
    regions = next;
  });
  return shape.some((size) => size === 0) ? [] : regions;
}

/**
 * A block of whole chunks for `partitionRegions`: on the axes in `tiledAxes`, the multiple of the chunk nearest
 * `regionSize` (at least one chunk); one chunk on the others. Then halved (never below one chunk) along its
 * longest axis until the image holds at least `minRegions` blocks, so that N workers all get work.
 */
export function chunkBlock(
  shape: readonly number[],
  chunks: readonly number[],
  axes: string,
  options: { tiledAxes: string; regionSize: number; minRegions?: number },
): number[] {
  const block = chunks.map((chunk, i) =>
    options.tiledAxes.includes(axes[i]!)
      ? chunk * Math.max(1, Math.round(options.regionSize / chunk))
      : chunk,
  );
  const count = () => block.reduce((n, b, i) => n * Math.ceil(shape[i]! / b), 1);
  while (count() < (options.minRegions ?? 1)) {
    const splittable = block
      .map((b, i) => ({ i, length: Math.min(b, shape[i]!) }))
      .filter(({ i }) => block[i]! > chunks[i]!)
      .sort((a, b) => b.length - a.length)[0];
    if (!splittable) break;
    const { i } = splittable;
    block[i] = Math.max(chunks[i]!, chunks[i]! * Math.floor(block[i]! / chunks[i]! / 2));
  }
  return block;
}

/** The boxes between consecutive cut points, on every axis (`cuts[axis]` starts at 0, ends at the axis size). */
export function regionsFromCuts(cuts: readonly (readonly number[])[]): Region[] {
  let regions: Region[] = [{ start: [], stop: [] }];
  for (const axisCuts of cuts) {
    const next: Region[] = [];
    for (const region of regions) {
      for (let i = 0; i + 1 < axisCuts.length; i++) {
        next.push({ start: [...region.start, axisCuts[i]!], stop: [...region.stop, axisCuts[i + 1]!] });
      }
    }
    regions = next;
  }
  return regions;
}

/**
 * Cut points along the tiled axes that fall between tiles' stitched parts, so no tile is predicted for two
 * regions: about `regionSize` pixels per region, then fewer tiles per region (along the axis with the most
 * pixels per region) until there are `minRegions` regions where the tiles allow. `grid` is the image's tile
 * grid; `iterated` the sizes of the other (S, T, …) axes, cut at every index.
 */
export function tileAlignedCuts(
  grid: TileGrid,
  options: { regionSize: number; minRegions?: number; iteratedCount?: number },
): number[][] {
  const step = (axis: TileGrid[number]) =>
    axis.length > 1 ? axis[1]!.stitchStart - axis[0]!.stitchStart : 1;
  const perRegion = grid.map((axis) =>
    Math.min(axis.length, Math.max(1, Math.round(options.regionSize / step(axis)))),
  );
  const count = () =>
    (options.iteratedCount ?? 1) * grid.reduce((n, axis, a) => n * Math.ceil(axis.length / perRegion[a]!), 1);
  while (count() < (options.minRegions ?? 1)) {
    const widest = perRegion
      .map((tiles, a) => ({ a, pixels: tiles * step(grid[a]!) }))
      .filter(({ a }) => perRegion[a]! > 1)
      .sort((x, y) => y.pixels - x.pixels)[0];
    if (!widest) break;
    perRegion[widest.a] = Math.ceil(perRegion[widest.a]! / 2);
  }
  return grid.map((axis, a) => {
    const cuts = axis.filter((_, i) => i % perRegion[a]! === 0).map((tile) => tile.stitchStart);
    const last = axis[axis.length - 1]!;
    return [...cuts, last.stitchStart + last.cropSize];
  });
}
