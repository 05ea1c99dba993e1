/**
 * Probabilistic Noise2Void (Krull et al. 2020, PN2V) and its Gaussian-prior variant (Laine et al. 2019): the
 * network predicts, per pixel, a prior over the clean signal; the loss is the likelihood of the observed noisy
 * value under prior ⊗ noise model, and prediction returns the posterior mean (MMSE), which uses the observed pixel.
 *
 * Layout: the UNet's `num_classes` outputs are channel-major, `K` per input channel (as independent channels
 * group them): channel c's prior is outputs [c·K, (c+1)·K).
 * - `samples`: K samples s_k of the clean signal (PN2V); a GMM (or any) noise model gives p(y | s).
 * - `gaussian`: K = 2, a mean μ and a log-variance; with Gaussian noise of known σ the posterior is analytic.
 *
 * The network works in normalized units (what the trainer feeds it); the noise model lives in raw intensity
 * units, so samples and observations are mapped back with the data's affine (raw = x · scale + offset) before it.
 */
import {
  add,
  concat,
  div,
  exp,
  expand,
  gatherElements,
  log,
  mul,
  reduceMax,
  reduceMean,
  reduceSum,
  reshape,
  slice,
  stopGradient,
  sub,
  type Tensor,
} from '../graph/index.js';
import { ModelError } from './unet.js';

/** The noise model as a graph: log p(observation | signal), element-wise with broadcasting, raw units. */
export type LogLikelihoodGraph = (observation: Tensor, signal: Tensor) => Tensor;

/** What the network's outputs mean, and the noise they are combined with. */
export type Pn2vNoise =
  | { prior: 'gaussian' /** Noise standard deviation, raw units. */; sigma: number }
  | { prior: 'samples'; logLikelihood: LogLikelihoodGraph };

/** Per-channel affine back to raw units: raw = normalized · scale + offset. */
export interface DataAffine {
  offset: readonly number[];
  scale: readonly number[];
}

/** Posterior mean (uses the observed pixel), or the prior's mean (the network alone). */
export type Pn2vOutput = 'mmse' | 'prior';
export const PN2V_OUTPUTS: readonly Pn2vOutput[] = ['mmse', 'prior'];

/** Outputs per input channel: 2 for the Gaussian prior (μ, log σ²), K samples otherwise. */
export function priorSize(prediction: Tensor, observation: Tensor): number {
  const channels = observation.shape[1];
  if (prediction.shape[1] % channels !== 0)
    throw new ModelError(
      `pn2v needs num_classes a multiple of in_channels (${prediction.shape[1]}, ${channels})`,
      'num_classes',
    );
  return prediction.shape[1] / channels;
}

interface PriorTerms {
  /** −log p(y) per pixel, raw units, (B, 1, …). */
  nll: Tensor;
  /** Posterior mean and prior mean, normalized units, (B, 1, …). */
  mmse: Tensor;
  prior: Tensor;
}

/** Channels [from, to) of a (B, C, …) tensor; slices, not reshapes, keep batch and spatial sizes free. */
const channels = (t: Tensor, from: number, to: number) => slice(t, [from], [to], [1]);

function gaussianTerms(prediction: Tensor, y: Tensor, sigma: number, scale: number): PriorTerms {
  const mean = channels(prediction, 0, 1);
  const priorVariance = exp(channels(prediction, 1, 2));
  // σ_n in normalized units: σ / scale.
  const noiseVariance = (sigma / scale) ** 2;
  const total = add(priorVariance, noiseVariance);
  const diff = sub(y, mean);
  // −log N(y; μ, σ_p² + σ_n²) in normalized units, + log scale for the density of raw y.
  const nll = add(
    add(mul(0.5, log(mul(total, 2 * Math.PI))), div(mul(diff, diff), mul(total, 2))),
    Math.log(scale),
  );
  const mmse = div(add(mul(y, priorVariance), mul(mean, noiseVariance)), total);
  return { nll, mmse, prior: mean };
}

function samplesTerms(
  samples: Tensor,
  y: Tensor,
  logLikelihood: LogLikelihoodGraph,
  scale: number,
  offset: number,
): PriorTerms {
  const raw = (t: Tensor) => add(mul(t, scale), offset);
  const ll = logLikelihood(raw(y), raw(samples));
  // log (1/K) Σ_k p(y | s_k) by log-sum-exp; the shift is a constant to the gradient.
  const shift = stopGradient(reduceMax(ll, [1], true));
  const weights = exp(sub(ll, shift));
  const nll = mul(add(log(reduceMean(weights, [1], true)), shift), -1);
  const mmse = div(reduceSum(mul(weights, samples), [1], true), reduceSum(weights, [1], true));
  return { nll, mmse, prior: reduceMean(samples, [1], true) };
}

/** Each channel's terms, concatenated on the channel axis: (B, C, …). */
function terms(prediction: Tensor, observation: Tensor, noise: Pn2vNoise, affine: DataAffine): PriorTerms {
  const count = observation.shape[1];
  if (affine.scale.length !== count || affine.offset.length !== count)
    throw new ModelError(
      `needs one offset and scale per channel (${count}), got ${affine.offset.length} and ${affine.scale.length}`,
      'pn2v',
    );
  const k = priorSize(prediction, observation);
  if (noise.prior === 'gaussian' && k !== 2)
    throw new ModelError(
      `the Gaussian prior needs num_classes = 2·in_channels (${2 * count}), got ${prediction.shape[1]}`,
      'num_classes',
    );
  const perChannel = Array.from({ length: count }, (_, c) => {
    const prior = channels(prediction, c * k, (c + 1) * k);
    const y = count === 1 ? observation : channels(observation, c, c + 1);
    return noise.prior === 'gaussian'
      ? gaussianTerms(prior, y, noise.sigma, affine.scale[c])
      : samplesTerms(prior, y, noise.logLikelihood, affine.scale[c], affine.offset[c]);
  });
  const join = (key: keyof PriorTerms) =>
    count === 1
      ? perChannel[0][key]
      : concat(
          perChannel.map((t) => t[key]),
          1,
        );
  return { nll: join('nll'), mmse: join('mmse'), prior: join('prior') };
}

const allAxes = (t: Tensor) => t.shape.map((_, i) => i);

/**
 * The PN2V loss: mean over masked pixels of −log p(y), y the observed (unmasked) value, p = prior ⊗ noise model.
 * `prediction` (B, C·K, …) from the masked input; `observation` and `mask` (B, C, …), normalized units.
 */
export function pn2vLoss(
  prediction: Tensor,
  observation: Tensor,
  mask: Tensor,
  noise: Pn2vNoise,
  affine: DataAffine,
): Tensor {
  const { nll } = terms(prediction, observation, noise, affine);
  return div(reduceSum(mul(mask, nll), allAxes(nll), false), reduceSum(mask, allAxes(mask), false));
}

/**
 * `pn2vLoss` evaluated only at the masked pixels. The likelihood of K samples under the noise model is the bulk
 * of a PN2V step when computed at every pixel (B·K·H·W exps, logs and the GMM's terms), and the mask keeps
 * 0.2–5 % of it; gathering the K outputs and the observation at the masked pixels first makes that work
 * (B·K·M) and leaves the network's cost. `maskedIndex` (B, C, M) int64: per patch and channel, the flat spatial
 * indices of its masked pixels, padded to M with unmasked ones (their mask weight, gathered too, is 0). Same value
 * as `pn2vLoss` on the same batch; the denominator is still the full mask's sum.
 */
export function pn2vMaskedLoss(
  prediction: Tensor,
  observation: Tensor,
  mask: Tensor,
  maskedIndex: Tensor,
  noise: Pn2vNoise,
  affine: DataAffine,
): Tensor {
  const [batch, count] = observation.shape;
  const m = maskedIndex.shape[2];
  const k = priorSize(prediction, observation);
  const pixels = observation.shape.slice(2).reduce((a, b) => a * b, 1);
  const flat = (t: Tensor) => reshape(t, [batch, t.shape[1], pixels]);
  const atMasked = (t: Tensor) => gatherElements(flat(t), maskedIndex, 2);
  // Channel c's K outputs share channel c's indices.
  const priorIndex = reshape(expand(reshape(maskedIndex, [batch, count, 1, m]), [batch, count, k, m]), [
    batch,
    count * k,
    m,
  ]);
  const picked = gatherElements(flat(prediction), priorIndex, 2);
  // (B, C·K, M): the masked pixels as a 1-D image, which `terms` takes like any other.
  const { nll } = terms(picked, atMasked(observation), noise, affine);
  return div(reduceSum(mul(atMasked(mask), nll), allAxes(nll), false), reduceSum(mask, allAxes(mask), false));
}

/** The denoised image (B, C, …), normalized units: posterior mean given the observed `input`, or the prior mean. */
export function pn2vEstimate(
  prediction: Tensor,
  input: Tensor,
  noise: Pn2vNoise,
  affine: DataAffine,
  output: Pn2vOutput,
): Tensor {
  const t = terms(prediction, input, noise, affine);
  return output === 'mmse' ? t.mmse : t.prior;
}
