/**
 * Our single-Gaussian noise model (signal-independent, the model an MSE loss assumes), with two ways to find its
 * sigma: from calibration pairs, or from noisy images alone.
 */
import { NoiseModelError } from './errors.js';
import type { ImageStack, SignalObservationPairs } from './fit.js';
import { createNoiseModel, type GaussianNoiseModel } from './model.js';

/** Sigma as the standard deviation of observation − signal over calibration pairs. */
export function gaussianSigmaFromPairs(pairs: SignalObservationPairs): number {
  const n = pairs.signal.length;
  if (n < 2)
    throw new NoiseModelError(
      'BadCalibrationData',
      'sigma',
      `${n} signal–observation pairs; need at least 2`,
    );
  let sum = 0;
  for (let i = 0; i < n; i++) sum += pairs.observation[i]! - pairs.signal[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (pairs.observation[i]! - pairs.signal[i]! - mean) ** 2;
  return Math.sqrt(squares / n);
}

const MAD_TO_SIGMA = 1.482602218505602; // 1 / Φ⁻¹(3/4): the MAD of a Gaussian is 0.6745 σ

function median(values: Float64Array): number {
  const sorted = values.sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Sigma from noisy images alone (the last two axes of `stack` are Y and X). Immerkær's Laplacian-difference mask
 * [[1,−2,1],[−2,4,−2],[1,−2,1]] is zero on any locally linear image and has an L2 norm of 6, so the response
 * divided by 6 is, on smooth regions, the noise itself with its sigma; its median absolute deviation (×1.4826)
 * ignores the edges and textures that leak through. For signal-dependent (Poisson) noise it gives a typical
 * sigma over the image's intensities. (J. Immerkær, "Fast noise variance estimation", CVIU 64, 1996.)
 */
export function gaussianSigmaFromNoisy(stack: ImageStack): number {
  const [height, width] = stack.shape.slice(-2) as [number, number];
  if (stack.shape.length < 2 || height < 3 || width < 3) {
    throw new NoiseModelError(
      'BadCalibrationData',
      'sigma',
      `need images of at least 3×3 pixels (…, Y, X) to estimate the noise, got shape [${stack.shape.join(', ')}]`,
    );
  }
  const planes = stack.data.length / (height * width);
  const responses = new Float64Array(planes * (height - 2) * (width - 2));
  let k = 0;
  const at = (base: number, y: number, x: number) => stack.data[base + y * width + x]!;
  for (let p = 0; p < planes; p++) {
    const base = p * height * width;
    for (let y = 1; y < height - 1; y++) {
      for (let x = 1; x < width - 1; x++) {
        const corners =
          at(base, y - 1, x - 1) + at(base, y - 1, x + 1) + at(base, y + 1, x - 1) + at(base, y + 1, x + 1);
        const sides = at(base, y - 1, x) + at(base, y + 1, x) + at(base, y, x - 1) + at(base, y, x + 1);
        responses[k++] = (corners - 2 * sides + 4 * at(base, y, x)) / 6;
      }
    }
  }
  const centre = median(responses.slice());
  const deviations = responses.map((r) => Math.abs(r - centre));
  return MAD_TO_SIGMA * median(deviations);
}

/** A `GaussianNoiseModel` of the given sigma (validated: positive). */
export function gaussianNoiseModel(sigma: number): GaussianNoiseModel {
  return createNoiseModel({ model_type: 'GaussianNoiseModel', sigma }) as GaussianNoiseModel;
}
