/**
 * Tiled prediction: tile plans and CAREamics crop-and-paste stitching, automatic memory-bounded tile sizes,
 * batched inference through an injected `PredictFn`, 8-fold test-time augmentation, streaming to a writer.
 *
 * @example
 * const out = await predict({ data, shape: [1024, 1024], axes: 'YX' }, runModel, {
 *   model: { depth: 2, inChannels: 1, outChannels: 1, is3D: false },
 *   batchSize: 4,
 * });
 */
export {
  isPredictionError,
  PredictionError,
  type PredictionErrorDetails,
  type PredictionErrorTag,
} from './errors.js';
export { type ImageLayout, outputLayout, resolveLayout } from './layout.js';
export {
  type AutoTileInput,
  chooseTileSize,
  DEFAULT_BYTES_PER_INPUT_PIXEL,
  DEFAULT_MEMORY_BUDGET_BYTES,
  defaultOverlap,
  estimatePeakMemory,
  type MemoryEstimateInput,
  resolveMemoryBudget,
  resolveOverlap,
} from './memory.js';
export { predict, toImageSource } from './predict.js';
export {
  chunkBlock,
  partitionRegions,
  regionsFromCuts,
  restrictGrid,
  tileAlignedCuts,
} from './regions.js';
export { predictToWriter } from './stream.js';
export {
  type AxisTile,
  countTiles,
  DEFAULT_TILE_OVERLAP,
  planAxisTiles,
  planTiles,
  reflectIndex,
  type TileGrid,
  validateTiling,
} from './tiling.js';
export { flipPlanes, orient, rot90, TTA_ORIENTATIONS, unorient, withTTA } from './tta.js';
export type {
  AxesArray,
  ModelFacts,
  Normalization,
  PredictFn,
  PredictOptions,
  Standardization,
} from './types.js';
