/**
 * The noise models of `model.ts` as graph ops, for training graphs (PN2V's loss is −log p per pixel) and for the
 * fitting graph, where the mixture's `weight` is itself a graph input. Same definition as the JS evaluator.
 */
import {
  add,
  div,
  exp,
  log,
  maximum,
  mul,
  relu,
  reshape,
  slice,
  stopGradient,
  sub,
  Tensor,
} from '../graph/index.js';
import type { GaussianMixtureNoiseModel, NoiseModel } from './model.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

type Scalar = Tensor | number;
/** The mixture settings that stay fixed while its weight may vary (a graph input while fitting). */
export type MixtureSettings = Pick<
  GaussianMixtureNoiseModel,
  'n_gaussian' | 'n_coeff' | 'min_signal' | 'max_signal' | 'min_sigma' | 'tol'
>;

/** Weight entry (row, column) as a number, or as a [1] tensor sliced from a [3k, n] weight input. */
function coefficient(weight: Tensor | readonly (readonly number[])[], row: number, column: number): Scalar {
  // Shape [1] broadcasts against any rank without changing it.
  if (weight instanceof Tensor)
    return reshape(slice(weight, [row, column], [row + 1, column + 1], [0, 1]), [1]);
  return weight[row]![column]!;
}

const expOf = (c: Scalar): Scalar => (typeof c === 'number' ? Math.exp(c) : exp(c));

/** Σᵢ cᵢ·uⁱ, given the powers u¹, u², … (n_coeff ≥ 2, so there is always a u¹ term). */
function polynomial(coefficients: readonly Scalar[], powers: readonly Tensor[]): Tensor {
  let value = mul(powers[0]!, coefficients[1]!);
  for (let i = 2; i < coefficients.length; i++) value = add(value, mul(powers[i - 1]!, coefficients[i]!));
  return add(value, coefficients[0]!);
}

/**
 * Σₖ αₖ·N(observation; μₖ, σₖ²) per pixel, without `tol`: CAREamics' `get_gaussian_parameters` and
 * `normal_density`. Each term is exp(log αₖ + log Nₖ), which underflows to 0 only where it is far below `tol`.
 */
export function mixtureDensityGraph(
  observation: Tensor,
  signal: Tensor,
  weight: Tensor | readonly (readonly number[])[],
  settings: MixtureSettings,
): Tensor {
  const k = settings.n_gaussian;
  const u = div(sub(signal, settings.min_signal), settings.max_signal - settings.min_signal);
  const powers: Tensor[] = [u];
  for (let i = 2; i < settings.n_coeff; i++) powers.push(mul(powers[i - 2]!, u));
  const row = (r: number) => Array.from({ length: settings.n_coeff }, (_, i) => coefficient(weight, r, i));

  const means: Tensor[] = [];
  const variances: Tensor[] = [];
  const logits: Tensor[] = [];
  for (let g = 0; g < k; g++) {
    means.push(polynomial(row(g), powers));
    const regressed = polynomial(row(k + g).map(expOf), powers);
    // max(v, min_sigma) as min_sigma + relu(v − min_sigma): same value, and relu has a gradient (Max has none).
    variances.push(add(relu(sub(regressed, settings.min_sigma)), settings.min_sigma));
    logits.push(add(polynomial(row(2 * k + g), powers), settings.tol));
  }
  // log αₖ = (aₖ − m) − log Σⱼ exp(aⱼ − m), m the largest logit: no exp overflows whichever component
  // dominates (shifting by the first logit overflowed once that component died out while fitting). The shift
  // cancels, so it is held constant and carries no gradient.
  const top = k === 1 ? undefined : stopGradient(logits.reduce((a, b) => maximum(a, b)));
  const shifted = logits.map((a) => (top === undefined ? a : sub(a, top)));
  const logNormaliser = k === 1 ? undefined : log(shifted.map(exp).reduce((a, b) => add(a, b)));
  const logAlphas = shifted.map((s) => (logNormaliser === undefined ? undefined : sub(s, logNormaliser)));
  const alphas = logAlphas.map((la) => (la === undefined ? undefined : exp(la)));
  // μₖ − Σⱼ αⱼμⱼ + signal: the mixture's mean is the signal.
  const weightedMean = means.map((m, g) => (alphas[g] ? mul(alphas[g]!, m) : m)).reduce((a, b) => add(a, b));
  let density: Tensor | undefined;
  for (let g = 0; g < k; g++) {
    const mean = add(sub(means[g]!, weightedMean), signal);
    const d = sub(observation, mean);
    let logTerm = sub(
      mul(div(mul(d, d), variances[g]!), -0.5),
      add(mul(log(variances[g]!), 0.5), HALF_LOG_2PI),
    );
    if (logAlphas[g]) logTerm = add(logTerm, logAlphas[g]!);
    const term = exp(logTerm);
    density = density ? add(density, term) : term;
  }
  return density!;
}

/** Gaussian log-density of `observation` around `signal` with a fixed sigma. */
function gaussianLogLikelihood(observation: Tensor, signal: Tensor, sigma: number): Tensor {
  const z = div(sub(observation, signal), sigma);
  return sub(mul(mul(z, z), -0.5), Math.log(sigma) + HALF_LOG_2PI);
}

/** p(observation | signal) per pixel, as `likelihood()` computes it; `observation` and `signal` broadcast. */
export function noiseModelLikelihood(observation: Tensor, signal: Tensor, model: NoiseModel): Tensor {
  if (model.model_type === 'GaussianNoiseModel') {
    return exp(gaussianLogLikelihood(observation, signal, model.sigma));
  }
  return add(mixtureDensityGraph(observation, signal, model.weight, model), model.tol);
}

/**
 * log p(observation | signal) per pixel, finite everywhere (a mixture's p is at least `tol`), with gradients
 * with respect to both tensors: PN2V's training loss is its negative mean.
 */
export function noiseModelLogLikelihood(observation: Tensor, signal: Tensor, model: NoiseModel): Tensor {
  if (model.model_type === 'GaussianNoiseModel')
    return gaussianLogLikelihood(observation, signal, model.sigma);
  return log(add(mixtureDensityGraph(observation, signal, model.weight, model), model.tol));
}

/** The mixture's log-likelihood with its weight as a graph tensor [3·n_gaussian, n_coeff] (for fitting). */
export function mixtureLogLikelihood(
  observation: Tensor,
  signal: Tensor,
  weight: Tensor,
  settings: MixtureSettings,
): Tensor {
  return log(add(mixtureDensityGraph(observation, signal, weight, settings), settings.tol));
}
