/**
 * careamics-js: content-aware image restoration (Noise2Void, N2V2, structN2V, CARE, Noise2Noise) trained and run
 * with ONNX Runtime. This entry is browser-safe; Node adds files and onnxruntime-node via `careamics-js/node`.
 *
 * @example
 * import * as ort from 'onnxruntime-web';
 * import { CAREamist, MemoryStore, createN2VConfig } from 'careamics-js';
 * const config = createN2VConfig({ experimentName: 'demo', dataType: 'array', axes: 'YX', patchSize: [64, 64], batchSize: 16, numEpochs: 30 });
 * const careamist = new CAREamist(config, { runtime: { name: 'onnxruntime-web', ort }, store: new MemoryStore() });
 * await careamist.train({ trainSource: [new ArraySource(noisy, 'YX')] });
 * const denoised = await careamist.predict({ data: noisy.data, shape: noisy.shape, axes: 'YX' });
 */

export type { ImportedBmz } from './bmz/index.js';
export { BmzError, importBmz, isBmzError, testBmz } from './bmz/index.js';
export type {
  BmzExportDetails,
  CAREamistOptions,
  LoadedModel,
  LoadModelOptions,
  ModelKind,
  OnnxFacts,
  PredictionSettings,
  TrainOptions,
} from './careamist/index.js';
export {
  CAREamist,
  CAREamistError,
  checkpointConfiguration,
  FrozenModel,
  loadModel,
  modelFileKind,
  onnxFacts,
  TiledModel,
  toPredictionNormalization,
} from './careamist/index.js';
export type { Configuration, NoiseModelConfig, UNetConfig } from './config/index.js';
export {
  ConfigError,
  createCareConfig,
  createN2NConfig,
  createN2VConfig,
  createPN2VConfig,
  createStructN2VConfig,
  gaussianMixtureFromSigma,
  loadConfigYaml,
  parseConfiguration,
  saveConfigYaml,
} from './config/index.js';
export type { NormalizationStats } from './data/index.js';
export { denormalize, imageStatistics, n2vManipulate, normalize, Rng } from './data/index.js';
export type { Batch, Device, DeviceInfo, ModelOptions, Runtime } from './engine/index.js';
export { createModel, DEVICES, defaultSessionOptions, EngineError, Model } from './engine/index.js';
export { CareamicsError, isCareamicsError } from './errors.js';
export type { DType, ImageSource, ImageWriter, NDArray, Region } from './io/index.js';
export {
  ArraySource,
  ArrayWriter,
  decodeNpy,
  encodeImage,
  encodeNpy,
  encodeTiff,
  guessAxes,
  IoError,
  isIoError,
  openImageData,
  openOmeZarr,
  openTiff,
  validateAxes,
} from './io/index.js';
export { fitScaleOffset, MetricsError, psnr, scaleInvariantPsnr, ssim } from './metrics/index.js';
export type { LossName, OptimizerSpec, Pn2vOutput } from './models/index.js';
export { DEFAULT_UNET, ModelError, PN2V_OUTPUTS } from './models/index.js';
export type {
  BootstrapResult,
  Denoiser,
  FitOptions,
  FitResult,
  GaussianMixtureNoiseModel,
  GaussianNoiseModel,
  ImageStack,
  NoiseModel,
  SignalBin,
  SignalObservationPairs,
} from './noise/index.js';
export {
  binnedStatistics,
  bootstrapGaussianNoiseModel,
  bootstrapNoiseModel,
  checkSignalRange,
  createNoiseModel,
  decodeNoiseModelNpz,
  encodeNoiseModelNpz,
  fitNoiseModel,
  gaussianNoiseModel,
  gaussianSigmaFromNoisy,
  gaussianSigmaFromPairs,
  isNoiseModelError,
  NoiseModelError,
  noiseModelMoments,
  relativeMinSigma,
  signalObservationPairs,
} from './noise/index.js';
export type {
  AxesArray,
  ModelFacts,
  Normalization,
  PredictFn,
  PredictOptions,
  Standardization,
} from './prediction/index.js';
export { PredictionError, predict, predictToWriter, withTTA } from './prediction/index.js';
export type {
  EpochRecord,
  RunStore,
  StepProgress,
  TrainerCallbacks,
  TrainerState,
  TrainingData,
} from './training/index.js';
export {
  configuredStats,
  configWithStatistics,
  DataError,
  MemoryStore,
  PREVIOUS_RUN_FILES,
  RUN_FILES,
  Trainer,
  TrainingError,
} from './training/index.js';
