/**
 * Noise models p(observation | signal): CAREamics' Gaussian mixture (PN2V, DivNoising) and a single Gaussian, as
 * data with two evaluators of one definition (pure JS, and graph ops for training graphs), CAREamics' `.npz`
 * format, fitting from calibration data and bootstrapping from a denoiser's prediction. Node's file helpers are
 * in `./node.ts`.
 *
 * @example
 * const { model } = await fitNoiseModel(cleanStack, noisyStack, { runtime });
 * const p = likelihood(model, observation, signal); // per pixel, Float32Array
 * const logP = noiseModelLogLikelihood(input('obs', [1, 1, 64, 64]), prediction, model); // graph tensor
 * const bytes = encodeNoiseModelNpz(model); // np.load / CAREamics read it
 */
export {
  type BootstrapResult,
  bootstrapGaussianNoiseModel,
  bootstrapNoiseModel,
  bootstrapPairs,
  type Denoiser,
} from './bootstrap.js';
export { isNoiseModelError, NoiseModelError, type NoiseModelErrorTag } from './errors.js';
export {
  type FitOptions,
  type FitResult,
  fitNoiseModel,
  type ImageStack,
  type PairOptions,
  relativeMinSigma,
  type SignalObservationPairs,
  signalObservationPairs,
} from './fit.js';
export { gaussianNoiseModel, gaussianSigmaFromNoisy, gaussianSigmaFromPairs } from './gaussian.js';
export {
  type MixtureSettings,
  mixtureLogLikelihood,
  noiseModelLikelihood,
  noiseModelLogLikelihood,
} from './graph.js';
export {
  checkSignalRange,
  createNoiseModel,
  type GaussianComponents,
  type GaussianMixtureNoiseModel,
  type GaussianNoiseModel,
  gaussianComponents,
  likelihood,
  logLikelihood,
  type NoiseModel,
  noiseModelMoments,
} from './model.js';
export { decodeNoiseModelNpz, encodeNoiseModelNpz } from './npz.js';
export { binnedStatistics, type SignalBin } from './statistics.js';
