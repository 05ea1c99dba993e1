/**
 * Data preparation for training, as pure seeded functions: normalization statistics, patch sampling, validation
 * split, augmentation and N2V masking.
 *
 * @example
 * const rng = new Rng(42);
 * const patching = new StratifiedPatching(sources, [64, 64], rng);
 * const valSpecs = createValSplit(patching, rng, 8);
 * const batch = await readPatchBatch(sources, epochPatchSpecs(patching, rng).slice(0, 16));
 * const { masked, mask } = n2vManipulate(normalize(batch, 'SCYX', stats), { roi_size: 11 }, rng);
 */
export {
  type Augmentation,
  type AugmentationConfig,
  applyAugmentation,
  augmentBatch,
  drawAugmentation,
  type XYFlipConfig,
  type XYRandomRotate90Config,
} from './augmentation.js';
export {
  buildStructPattern,
  getStratifiedCoords,
  type N2VManipulateConfig,
  type N2VManipulateResult,
  n2vManipulate,
  type StructMaskAxes,
  type StructMaskConfig,
} from './n2vManipulate.js';
export {
  createStatsAccumulator,
  denormalize,
  MEAN_STD_EPS,
  MinMaxStatistics,
  type NormalizationName,
  type NormalizationStats,
  normalize,
  QuantileEstimator,
  RANGE_EPS,
  type StatsAccumulator,
  WelfordStatistics,
} from './normalization.js';
export {
  checkPatchFits,
  epochPatchSpecs,
  extractPatchBatch,
  type ImageArray,
  type ImageGeometry,
  type ImageInfo,
  imageGeometry,
  type Patching,
  type PatchSpec,
  patchRegion,
  RandomPatching,
  readPatchBatch,
} from './patching.js';
export { Rng, type RngState } from './random.js';
export { StratifiedPatching } from './stratifiedPatching.js';
export { createValSplit, splitByPercentage } from './valSplit.js';
