/**
 * Noise models as data, and their pure-JS evaluation: p(observation | signal) per pixel, as CAREamics'
 * `GaussianMixtureNoiseModel.likelihood` computes it (`models/lvae/noise_models.py`), and our single Gaussian.
 * `graph.ts` builds the same definition as graph ops; tests hold the two (and PyTorch) to each other.
 */
import {
  type GaussianMixtureNMConfig,
  type GaussianNoiseModelConfig,
  type NoiseModelConfigInput,
  parseNoiseModelConfig,
} from '../config/index.js';
import { NoiseModelError } from './errors.js';

/** A Gaussian mixture model ready to evaluate: its configuration with the weights present. */
export type GaussianMixtureNoiseModel = GaussianMixtureNMConfig & { weight: number[][] };
export type GaussianNoiseModel = GaussianNoiseModelConfig;
export type NoiseModel = GaussianMixtureNoiseModel | GaussianNoiseModel;

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * A noise model from its configuration (validated; a `ConfigError` names a bad field). A mixture needs its
 * `weight`: fit one (`fitNoiseModel`) or read a `.npz` (`decodeNoiseModelNpz`, Node's `loadNoiseModel`).
 */
export function createNoiseModel(config: NoiseModelConfigInput): NoiseModel {
  const parsed = parseNoiseModelConfig(config);
  if (parsed.model_type === 'GaussianNoiseModel') return parsed;
  if (parsed.weight === null) {
    const how =
      parsed.path === null
        ? 'fit the model (fitNoiseModel) or load its .npz (loadNoiseModel)'
        : `read path ${parsed.path} with loadNoiseModelFromConfig (Node) or decodeNoiseModelNpz`;
    throw new NoiseModelError('MissingField', 'GaussianMixtureNoiseModel', `weight is null; ${how}`);
  }
  return { ...parsed, weight: parsed.weight };
}

/** Each Gaussian's mean, standard deviation and mixture weight at one signal value (CAREamics' order and maths). */
export interface GaussianComponents {
  means: number[];
  stds: number[];
  alphas: number[];
}

/** CAREamics' `polynomial_regressor`: Σᵢ cᵢ·uⁱ with u the signal scaled by [min_signal, max_signal]. */
function polynomial(coefficients: readonly number[], u: number): number {
  let value = 0;
  let power = 1;
  for (const c of coefficients) {
    value += c * power;
    power *= u;
  }
  return value;
}

/** CAREamics' `get_gaussian_parameters` at one signal value. */
export function gaussianComponents(model: GaussianMixtureNoiseModel, signal: number): GaussianComponents {
  const k = model.n_gaussian;
  const u = (signal - model.min_signal) / (model.max_signal - model.min_signal);
  const means: number[] = [];
  const stds: number[] = [];
  const logits: number[] = [];
  for (let g = 0; g < k; g++) {
    means.push(polynomial(model.weight[g]!, u));
    const variance = polynomial(model.weight[k + g]!.map(Math.exp), u);
    stds.push(Math.sqrt(Math.max(variance, model.min_sigma)));
    logits.push(polynomial(model.weight[2 * k + g]!, u) + model.tol);
  }
  // exp(a) / Σ exp(a), shifted by the largest logit so that no exp overflows (same value).
  const top = Math.max(...logits);
  const expd = logits.map((a) => Math.exp(a - top));
  const total = expd.reduce((a, b) => a + b, 0);
  const alphas = expd.map((e) => e / total);
  // The alpha-weighted mean is moved onto the signal: the mixture's mean is the signal by construction.
  const weightedMean = means.reduce((acc, m, g) => acc + alphas[g]! * m, 0);
  return { means: means.map((m) => m - weightedMean + signal), stds, alphas };
}

/** log p(observation | signal) for one pixel, computed without underflow (p ≥ tol, so the log is finite). */
function pixelLogLikelihood(model: NoiseModel, observation: number, signal: number): number {
  if (model.model_type === 'GaussianNoiseModel') {
    const z = (observation - signal) / model.sigma;
    return -0.5 * z * z - Math.log(model.sigma) - HALF_LOG_2PI;
  }
  return Math.log(mixtureDensity(model, observation, signal) + model.tol);
}

function mixtureDensity(model: GaussianMixtureNoiseModel, observation: number, signal: number): number {
  const { means, stds, alphas } = gaussianComponents(model, signal);
  let p = 0;
  for (let g = 0; g < means.length; g++) {
    const z = (observation - means[g]!) / stds[g]!;
    p += alphas[g]! * Math.exp(-0.5 * z * z - Math.log(stds[g]!) - HALF_LOG_2PI);
  }
  return p;
}

function checkSameLength(observation: ArrayLike<number>, signal: ArrayLike<number>): void {
  if (observation.length !== signal.length) {
    throw new NoiseModelError(
      'BadCalibrationData',
      'likelihood',
      `observation has ${observation.length} values, signal ${signal.length}; they must match pixel for pixel`,
    );
  }
}

/** p(observation | signal) per pixel: CAREamics' `likelihood` (the mixture density plus `tol`) for a mixture. */
export function likelihood(
  model: NoiseModel,
  observation: ArrayLike<number>,
  signal: ArrayLike<number>,
): Float32Array {
  checkSameLength(observation, signal);
  const out = new Float32Array(observation.length);
  for (let i = 0; i < out.length; i++) {
    out[i] =
      model.model_type === 'GaussianNoiseModel'
        ? Math.exp(pixelLogLikelihood(model, observation[i]!, signal[i]!))
        : mixtureDensity(model, observation[i]!, signal[i]!) + model.tol;
  }
  return out;
}

/** log p(observation | signal) per pixel. */
export function logLikelihood(
  model: NoiseModel,
  observation: ArrayLike<number>,
  signal: ArrayLike<number>,
): Float32Array {
  checkSameLength(observation, signal);
  const out = new Float32Array(observation.length);
  for (let i = 0; i < out.length; i++) out[i] = pixelLogLikelihood(model, observation[i]!, signal[i]!);
  return out;
}

/** The model's mean and standard deviation of the observation at each signal value (for plots and checks). */
export function noiseModelMoments(
  model: NoiseModel,
  signals: ArrayLike<number>,
): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(signals.length);
  const std = new Float64Array(signals.length);
  for (let i = 0; i < signals.length; i++) {
    const s = signals[i]!;
    if (model.model_type === 'GaussianNoiseModel') {
      mean[i] = s;
      std[i] = model.sigma;
      continue;
    }
    const { means, stds, alphas } = gaussianComponents(model, s);
    let m = 0;
    let second = 0;
    for (let g = 0; g < means.length; g++) {
      m += alphas[g]! * means[g]!;
      second += alphas[g]! * (stds[g]! ** 2 + means[g]! ** 2);
    }
    mean[i] = m;
    std[i] = Math.sqrt(Math.max(second - m * m, 0));
  }
  return { mean, std };
}

/**
 * Compares the data's intensity range with the signal range a mixture was fitted on. Outside it the polynomials
 * extrapolate: the likelihood stays defined but is no longer what was fitted, so this returns a warning;
 * `strict` makes it a `SignalOutOfRange` error instead. A single Gaussian holds at any intensity.
 */
export function checkSignalRange(
  model: NoiseModel,
  data: { min: number; max: number },
  options: { source?: string; strict?: boolean } = {},
): string | undefined {
  if (model.model_type === 'GaussianNoiseModel') return undefined;
  const span = model.max_signal - model.min_signal;
  // A hair of slack: the range is often fitted on the very data it is compared with, through float32.
  const slack = 1e-6 * span;
  if (data.min >= model.min_signal - slack && data.max <= model.max_signal + slack) return undefined;
  const problem =
    `the data's intensities [${fmt(data.min)}, ${fmt(data.max)}] are not covered by the noise model's signal ` +
    `range [min_signal, max_signal] = [${fmt(model.min_signal)}, ${fmt(model.max_signal)}]`;
  if (options.strict) throw new NoiseModelError('SignalOutOfRange', options.source ?? 'noise model', problem);
  return `${options.source ?? 'noise model'}: ${problem}; the likelihood is extrapolated there`;
}

const fmt = (v: number) => String(Number(v.toPrecision(6)));
