/**
 * Data preparation for training, as pure seeded functions: normalization statistics, patch sampling, validation
 * split, augmentation and N2V masking. Configuration types come from `config/`; the functions here take them.
 *
 * @example
 * const rng = new Rng(42);
 * const { training, validation } = TRAINING_PATCHING.stratified(sources, [64, 64], rng, 8);
 * const batch = await readPatchBatch(sources, epochPatchSpecs(training, rng).slice(0, 16));
 * const { masked, mask } = n2vManipulate(normalize(batch, 'SCYX', stats), { roi_size: 11 }, rng);
 */
export {
  type Augmentation,
  type AugmentationInput,
  applyAugmentation,
  augmentBatch,
  drawAugmentation,
} from './augmentation.js';
export { DataError, type DataErrorTag, isDataError } from './errors.js';
export {
  type GroupedMoments,
  groupedMoments,
  type ImageStatistics,
  imageStatistics,
  statisticsSlabs,
} from './imageStatistics.js';
export {
  buildStructPattern,
  getStratifiedCoords,
  type N2VManipulateInput,
  type N2VManipulateResult,
  n2vManipulate,
} from './n2vManipulate.js';
export {
  type AffineNormalization,
  channelAffine,
  createStatsAccumulator,
  denormalize,
  MEAN_STD_EPS,
  MinMaxStatistics,
  type NormalizationStats,
  normalizationAffine,
  normalize,
  QuantileEstimator,
  RANGE_EPS,
  type StatsAccumulator,
  type StatsOptions,
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
export {
  isTrainingPatching,
  TRAINING_PATCHING,
  type TrainingPatching,
  type TrainingPatchingName,
  type TrainingPatchingStrategy,
} from './trainingPatching.js';
export { createValSplit, splitByPercentage } from './valSplit.js';
