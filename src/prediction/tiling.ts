import { PredictionError } from './errors.js';

/** CAREamics' default overlap between neighbouring tiles (`tile_overlap=(48, 48)`). */
export const DEFAULT_TILE_OVERLAP = 48;

/**
 * One tile along one axis. The model sees `[start, start + size)`; of its output, `[cropStart, cropStart +
 * cropSize)` (tile coordinates) is pasted at `[stitchStart, stitchStart + cropSize)` (image coordinates).
 * `start + size` exceeds the axis only when the axis is shorter than the tile: the tile is then padded.
 */
export interface AxisTile {
  start: number;
  size: number;
  cropStart: number;
  cropSize: number;
  stitchStart: number;
}

/** The tiles along every spatial axis (Z, Y, X or Y, X); a tile of the image is one pick per axis. */
export type TileGrid = AxisTile[][];

export function roundUpToMultiple(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/**
 * Tiles along one axis, as CAREamics' `TiledPatching._compute_1d_coords`: tiles start every `tile - overlap`
 * pixels, the last one is pushed back to end at the border, and each inner edge is cropped by `overlap / 2`
 * (the last tile's crop starts where the previous one stopped). An axis no longer than `tileSize` gets one
 * tile of the axis length rounded up to `multiple`, padded by the caller and cropped back.
 */
export function planAxisTiles(axisSize: number, tileSize: number, overlap: number, multiple = 1): AxisTile[] {
  if (axisSize <= tileSize) {
    const size = roundUpToMultiple(axisSize, multiple);
    return [{ start: 0, size, cropStart: 0, cropSize: axisSize, stitchStart: 0 }];
  }
  const half = overlap / 2;
  const step = tileSize - overlap;
  const tiles: AxisTile[] = [
    { start: 0, size: tileSize, cropStart: 0, cropSize: tileSize - half, stitchStart: 0 },
  ];
  for (let start = step; start < axisSize - overlap; start += step) {
    if (start + tileSize < axisSize) {
      tiles.push({ start, size: tileSize, cropStart: half, cropSize: step, stitchStart: start + half });
    } else {
      const previous = tiles[tiles.length - 1]!;
      const stitchStart = previous.stitchStart + previous.cropSize;
      const last = axisSize - tileSize;
      tiles.push({
        start: last,
        size: tileSize,
        cropStart: stitchStart - last,
        cropSize: axisSize - stitchStart,
        stitchStart,
      });
    }
  }
  return tiles;
}

/**
 * Checks tile sizes and overlaps the way CAREamics does, before any pixel is read: one value per spatial axis,
 * tiles multiples of `multiple` (2**depth), overlaps even, non-negative and smaller than the tile.
 */
export function validateTiling(
  tileSize: readonly number[],
  overlap: readonly number[],
  multiple: number,
): void {
  const fail = (problem: string): never => {
    throw new PredictionError(
      'InvalidTiling',
      `tile size [${tileSize.join(', ')}] with overlap [${overlap.join(', ')}]: ${problem}`,
      { tileSize, overlap },
    );
  };
  if (tileSize.length !== overlap.length) fail('one overlap per tiled axis is needed');
  tileSize.forEach((tile, i) => {
    const over = overlap[i]!;
    if (!Number.isInteger(tile) || tile <= 0 || tile % multiple !== 0) {
      fail(`tiles must be positive multiples of ${multiple} (2**depth)`);
    }
    if (!Number.isInteger(over) || over < 0 || over % 2 !== 0) fail('overlaps must be even and non-negative');
    if (over >= tile) fail('overlaps must be smaller than the tile');
  });
}

/** The tile grid of a spatial shape (Z, Y, X or Y, X) for validated tile sizes and overlaps. */
export function planTiles(
  spatialShape: readonly number[],
  tileSize: readonly number[],
  overlap: readonly number[],
  multiple = 1,
): TileGrid {
  validateTiling(tileSize, overlap, multiple);
  if (spatialShape.length !== tileSize.length) {
    throw new PredictionError(
      'InvalidTiling',
      `tile size [${tileSize.join(', ')}] does not match the ${spatialShape.length} tiled axes`,
      { shape: spatialShape, tileSize, overlap },
    );
  }
  return spatialShape.map((size, i) => planAxisTiles(size, tileSize[i]!, overlap[i]!, multiple));
}

/** Number of tiles in a grid. */
export function countTiles(grid: TileGrid): number {
  return grid.reduce((count, axis) => count * axis.length, 1);
}

/**
 * Index along a padded axis of length `size`: numpy's `reflect` (mirror without repeating the edge, repeated
 * as often as needed), or the single pixel when the axis has length 1 and cannot be reflected.
 */
export function reflectIndex(index: number, size: number): number {
  if (size === 1) return 0;
  const period = 2 * (size - 1);
  const folded = ((index % period) + period) % period;
  return folded < size ? folded : period - folded;
}
