/**
 * Bootstrapping a noise model without calibration data (the PN2V / DivNoising recipe): a trained N2V model's
 * prediction stands in for the clean signal, the noisy images themselves are the observations.
 */
import type { AxesArray } from '../prediction/index.js';
import { NoiseModelError } from './errors.js';
import { type FitOptions, type FitResult, fitNoiseModel, relativeMinSigma } from './fit.js';
import { gaussianNoiseModel, gaussianSigmaFromPairs } from './gaussian.js';
import type { GaussianNoiseModel } from './model.js';

/** What bootstrapping needs of a model: tiled prediction of whole images (a `CAREamist` or `FrozenModel`). */
export interface Denoiser {
  predict(source: AxesArray): Promise<AxesArray>;
}

export interface BootstrapResult {
  /** The noisy images and their predictions, as the signal–observation stacks the model was fitted on. */
  signal: Float32Array;
  observation: Float32Array;
}

/** Predicts each image and checks the prediction is pixel for pixel the image (one output channel). */
export async function bootstrapPairs(
  denoiser: Denoiser,
  images: readonly AxesArray[],
): Promise<BootstrapResult> {
  const total = images.reduce((n, image) => n + image.data.length, 0);
  const signal = new Float32Array(total);
  const observation = new Float32Array(total);
  let offset = 0;
  for (const [i, image] of images.entries()) {
    const prediction = await denoiser.predict(image);
    if (prediction.data.length !== image.data.length) {
      throw new NoiseModelError(
        'BadCalibrationData',
        'bootstrap',
        `image ${i}: the prediction [${prediction.shape.join(', ')}] ${prediction.axes} does not match the image ` +
          `[${image.shape.join(', ')}] ${image.axes}; bootstrapping needs a model with as many output as input channels`,
      );
    }
    signal.set(prediction.data, offset);
    observation.set(image.data, offset);
    offset += image.data.length;
  }
  return { signal, observation };
}

/**
 * Fits a Gaussian mixture to the (prediction, noisy image) pairs. Without `minSigma` the variance floor is
 * `relativeMinSigma` of the noisy data, not CAREamics' 125: a prediction's narrow signal range can start the fit
 * under a fixed floor everywhere, where the variance has no gradient and the fit never moves.
 */
export async function bootstrapNoiseModel(
  denoiser: Denoiser,
  images: readonly AxesArray[],
  options: FitOptions,
): Promise<FitResult & BootstrapResult> {
  const pairs = await bootstrapPairs(denoiser, images);
  const undershoot = clampUndershoot(pairs.signal);
  const stack = (data: Float32Array) => ({ data, shape: [1, data.length] });
  const minSigma = options.minSigma ?? relativeMinSigma(pairs.observation);
  const fit = await fitNoiseModel(stack(pairs.signal), stack(pairs.observation), { ...options, minSigma });
  return { ...fit, warnings: [...undershoot, ...fit.warnings], ...pairs };
}

/** Above this share of negative predicted pixels the data itself is offset, not the denoiser undershooting. */
const MAX_UNDERSHOOT = 0.01;

/**
 * A denoiser's prediction of a dark, non-negative signal dips a little below zero where the noise does, and a
 * noise model's `min_signal` must be ≥ 0 (CAREamics). A few such pixels are the denoiser's undershoot: they are
 * set to 0 with a warning. Many of them mean offset data, which `fitNoiseModel` refuses with its own advice.
 */
function clampUndershoot(signal: Float32Array): string[] {
  let negative = 0;
  let lowest = 0;
  for (const s of signal) {
    if (s < 0) {
      negative++;
      lowest = Math.min(lowest, s);
    }
  }
  if (negative === 0 || negative > MAX_UNDERSHOOT * signal.length) return [];
  for (let i = 0; i < signal.length; i++) if (signal[i] < 0) signal[i] = 0;
  const share = ((100 * negative) / signal.length).toPrecision(2);
  return [
    `${negative} predicted pixels (${share} %, down to ${lowest.toPrecision(3)}) were below 0 and were set to 0 as the signal`,
  ];
}

/** A single Gaussian from the (prediction, noisy image) pairs: sigma = std of noisy − predicted. */
export async function bootstrapGaussianNoiseModel(
  denoiser: Denoiser,
  images: readonly AxesArray[],
): Promise<{ model: GaussianNoiseModel } & BootstrapResult> {
  const pairs = await bootstrapPairs(denoiser, images);
  return { model: gaussianNoiseModel(gaussianSigmaFromPairs(pairs)), ...pairs };
}
