/**
 * CAREamics configurations: zod schemas with CAREamics' field names and defaults, types inferred from them,
 * cross-checks, factories and YAML.
 *
 * @example
 * const config = createN2VConfig({ experimentName: 'n2v', dataType: 'tiff', axes: 'SYX', patchSize: [64, 64], batchSize: 16 });
 * const text = saveConfigYaml(config);
 * const { config: again, warnings } = loadConfigYaml(text);
 */
export {
  ALGORITHMS,
  type AlgorithmConfig,
  AlgorithmConfigSchema,
  type AlgorithmName,
  type CAREAlgorithm,
  CAREAlgorithmSchema,
  isSelfSupervised,
  isSupervised,
  type N2NAlgorithm,
  N2NAlgorithmSchema,
  type N2VAlgorithm,
  N2VAlgorithmSchema,
  type PN2VAlgorithm,
  PN2VAlgorithmSchema,
  predictionChannels,
  type SelfSupervisedAlgorithm,
} from './algorithm.js';
export { FINAL_ACTIVATIONS, type UNetConfig, UNetConfigSchema } from './architecture.js';
export { axesProblem, isAxes3D, isValidCziAxes, SUPPORTED_AXES } from './axes.js';
export type { RecognisedShape } from './careamicsVersions.js';
export {
  CONFIG_VERSION,
  type Configuration,
  type ConfigurationInput,
  ConfigurationSchema,
  configurationIssues,
  configurationWarnings,
  parseConfiguration,
} from './configuration.js';
export {
  type AugmentationConfig,
  AugmentationConfigSchema,
  DATA_MODES,
  DATA_TYPES,
  type DataConfig,
  DataConfigSchema,
  type DataType,
  isDataConfig3D,
  type MaskPatchFilterConfig,
  type PatchFilterConfig,
  type PatchFilterConfigInput,
  PatchFilterConfigSchema,
  type PatchingConfig,
  PatchingConfigSchema,
  type XYFlipConfig,
  type XYRandomRotate90Config,
} from './data.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export {
  type AugmentationName,
  type CareConfigOptions,
  type CommonConfigOptions,
  createCareConfig,
  createN2NConfig,
  createN2VConfig,
  createPN2VConfig,
  createStructN2VConfig,
  DEFAULT_NUM_EPOCHS,
  DEFAULT_PN2V_SAMPLES,
  type N2VConfigOptions,
  type PN2VConfigOptions,
  type SupervisedConfigOptions,
} from './factories.js';
export { migrateLegacyConfig } from './legacy.js';
export {
  type N2VManipulateConfig,
  N2VManipulateConfigSchema,
  PIXEL_MANIPULATIONS,
  STRUCT_MASK_AXES,
  type StructMaskAxes,
  type StructMaskConfig,
} from './n2vManipulate.js';
export {
  type GaussianMixtureNMConfig,
  type GaussianMixtureNMConfigInput,
  GaussianMixtureNMConfigSchema,
  type GaussianNoiseModelConfig,
  GaussianNoiseModelConfigSchema,
  gaussianMixtureFromSigma,
  NOISE_MODEL_TYPES,
  type NoiseModelConfig,
  type NoiseModelConfigInput,
  NoiseModelConfigSchema,
  parseNoiseModelConfig,
} from './noiseModel.js';
export {
  type MeanStdConfig,
  type MinMaxConfig,
  type NoNormConfig,
  type NormalizationConfig,
  NormalizationConfigSchema,
  normalizationSizeIssues,
  type QuantileConfig,
} from './normalization.js';
export {
  LR_SCHEDULERS,
  type LrSchedulerConfig,
  type LrSchedulerName,
  OPTIMIZERS,
  type OptimizerConfig,
  type OptimizerName,
  type ResolvedLrScheduler,
  type ResolvedOptimizer,
  resolveLrScheduler,
  resolveOptimizer,
} from './optimizer.js';
export {
  checkTrainerParamsImplemented,
  defaultTrainingConfig,
  LOGGERS,
  type ResolvedCheckpointParams,
  type ResolvedEarlyStoppingParams,
  type ResolvedTrainerParams,
  resolveCheckpointParams,
  resolveEarlyStoppingParams,
  resolveTrainerParams,
  SELF_SUPERVISED_CHECKPOINTING,
  SUPERVISED_CHECKPOINTING,
  type TrainingConfig,
  TrainingConfigSchema,
} from './training.js';
export { loadConfigYaml, saveConfigYaml } from './yaml.js';
