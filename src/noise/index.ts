/**
 * Noise models p(observation | signal): CAREamics' Gaussian mixture (PN2V, DivNoising) and a single Gaussian, as
 * data with two evaluators of one definition (pure JS, and graph ops for training graphs), CAREamics' `.npz`
 * format, fitting from calibration data and bootstrapping from a denoiser's prediction.
 *
 * @example
 * const model = decodeNoiseModelNpz(bytes, 'nm.npz');
 * const p = likelihood(model, observation, signal); // per pixel, Float32Array
 * const logP = noiseModelLogLikelihood(input('obs', [1, 1, 64, 64]), prediction, model); // graph tensor
 */
export { isNoiseModelError, NoiseModelError, type NoiseModelErrorTag } from './errors.js';
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
