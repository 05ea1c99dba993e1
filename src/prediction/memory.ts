import { product } from '../io/ndarray.js';
import { DEFAULT_TILE_OVERLAP, planAxisTiles, roundUpToMultiple } from './tiling.js';
import type { ModelFacts } from './types.js';

/**
 * Model working memory per input voxel when the model does not say: a depth-2, 32-filter UNet keeps about
 * five 32-channel float32 maps alive at full resolution (≈ 640 B), rounded up for the lower levels.
 */
export const DEFAULT_BYTES_PER_INPUT_PIXEL = 1024;

/** Budget for automatic tiles when the caller gives neither a budget nor the available memory. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 512 * 1024 ** 2;

export interface MemoryEstimateInput {
  /** Spatial tile shape as the model sees it (Z, Y, X or Y, X). */
  tileShape: readonly number[];
  /** Extent of the image along X: bands of tiles span it. */
  imageWidth: number;
  batchSize: number;
  model: Pick<ModelFacts, 'inChannels' | 'outChannels' | 'bytesPerInputPixel'>;
  tta?: boolean;
}

/**
 * Estimated peak bytes of tiled prediction:
 * - the model: `batch × tile voxels × bytesPerInputPixel`;
 * - float32 batch tensors: input and output (and, with TTA, one oriented copy and the running sum);
 * - bands: two rows of tiles across the image width, read (input channels) and stitched (output channels).
 */
export function estimatePeakMemory(input: MemoryEstimateInput): number {
  const { tileShape, imageWidth, batchSize, model } = input;
  const voxels = product(tileShape);
  const perPixel = model.bytesPerInputPixel ?? DEFAULT_BYTES_PER_INPUT_PIXEL;
  const channels = model.inChannels + model.outChannels;
  const modelBytes = batchSize * voxels * perPixel;
  const tensorBytes = batchSize * voxels * 4 * channels * (input.tta ? 2 : 1);
  const bandVoxels = product(tileShape.slice(0, -1)) * Math.max(imageWidth, tileShape[tileShape.length - 1]!);
  const bandBytes = 2 * bandVoxels * 4 * channels;
  return modelBytes + tensorBytes + bandBytes;
}

/** The memory budget from the options: explicit, else a fraction of the available memory, else the default. */
export function resolveMemoryBudget(options: {
  memoryBudgetBytes?: number;
  availableMemoryBytes?: number;
  memoryFraction?: number;
}): number {
  if (options.memoryBudgetBytes !== undefined) return options.memoryBudgetBytes;
  if (options.availableMemoryBytes !== undefined) {
    return options.availableMemoryBytes * (options.memoryFraction ?? 0.5);
  }
  return DEFAULT_MEMORY_BUDGET_BYTES;
}

/** The overlap the model needs: twice its halo (each inner edge loses half), even, at least CAREamics' 48. */
export function defaultOverlap(halo: number | undefined): number {
  const need = 2 * Math.ceil(halo ?? 0);
  return Math.max(DEFAULT_TILE_OVERLAP, need);
}

/**
 * Overlaps per axis for a tile size: the requested ones, or the default capped to the largest even number
 * below the tile (an axis covered by a single tile has no inner edge, so its overlap never matters).
 */
export function resolveOverlap(
  tileSize: readonly number[],
  requested: readonly number[] | undefined,
  halo?: number,
) {
  if (requested !== undefined) return [...requested];
  const overlap = defaultOverlap(halo);
  return tileSize.map((tile) => Math.min(overlap, tile - 2 - ((tile - 2) % 2)));
}

export interface AutoTileInput {
  /** Spatial shape of the image as the model sees it (Z, Y, X or Y, X). */
  spatialShape: readonly number[];
  model: ModelFacts;
  batchSize: number;
  budgetBytes: number;
  tta?: boolean;
  /** The overlaps prediction will use (one per spatial axis); the model's default when absent. */
  tileOverlap?: readonly number[];
}

/**
 * The largest tile that fits the budget: one edge length `s` (a multiple of 2**depth), capped per axis at the
 * image size rounded up to that multiple, stepping `s` down until `estimatePeakMemory` fits. Tiles never go
 * below the smallest multiple that still exceeds the overlap the model needs; that tile is returned even when
 * it is over budget (the estimate is a model, not a measurement). Each axis is then shrunk to the smallest tile
 * that needs no more tiles (`balanceTile`): same number of model calls, less padding computed twice.
 */
export function chooseTileSize(input: AutoTileInput): number[] {
  const { spatialShape, model } = input;
  const multiple = 2 ** model.depth;
  const caps = spatialShape.map((size) => roundUpToMultiple(size, multiple));
  const minimum = Math.max(
    multiple,
    (Math.floor(defaultOverlap(model.receptiveFieldHalo) / multiple) + 1) * multiple,
  );
  const tileFor = (edge: number) => caps.map((cap) => Math.min(cap, edge));
  const fits = (edge: number) =>
    estimatePeakMemory({
      tileShape: tileFor(edge),
      imageWidth: spatialShape[spatialShape.length - 1]!,
      batchSize: input.batchSize,
      model,
      tta: input.tta,
    }) <= input.budgetBytes;
  let edge = Math.max(...caps);
  while (edge > minimum && !fits(edge)) edge -= multiple;
  const tile = tileFor(Math.max(edge, minimum));
  const overlap = resolveOverlap(tile, input.tileOverlap, model.receptiveFieldHalo);
  return tile.map((size, i) => balanceTile(spatialShape[i]!, size, overlap[i]!, multiple));
}

/**
 * The smallest multiple of `multiple`, at most `tile`, that covers an axis with as few tiles as `tile` does.
 * `n` tiles of size `t` with overlap `o` cover `n·t − (n−1)·o` pixels, so `t = ⌈(size + (n−1)·o) / n⌉`
 * rounded up; e.g. 2048 px with 704² tiles and overlap 52 takes 4 tiles, and so does 552 (−39% pixels).
 */
export function balanceTile(axisSize: number, tile: number, overlap: number, multiple: number): number {
  if (axisSize <= tile || overlap >= tile) return tile;
  const count = planAxisTiles(axisSize, tile, overlap, multiple).length;
  // At least overlap + 2: below that the default overlap would shrink with the tile.
  const cover = Math.max(overlap + 2, Math.ceil((axisSize + (count - 1) * overlap) / count));
  return Math.min(tile, roundUpToMultiple(cover, multiple));
}
