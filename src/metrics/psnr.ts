import { MetricsError } from './errors.js';

type Values = ArrayLike<number>;

function checkSameLength(a: Values, b: Values, metric: string): void {
  if (a.length !== b.length) {
    throw new MetricsError(
      'SizeMismatch',
      metric,
      `images must be equally long (${a.length} vs ${b.length})`,
    );
  }
  if (a.length === 0) throw new MetricsError('EmptyImage', metric, 'images must not be empty');
}

export function mean(values: Values): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

export function meanSquaredError(gt: Values, pred: Values): number {
  checkSameLength(gt, pred, 'meanSquaredError');
  let sum = 0;
  for (let i = 0; i < gt.length; i++) {
    const d = gt[i]! - pred[i]!;
    sum += d * d;
  }
  return sum / gt.length;
}

/**
 * Peak signal-to-noise ratio `10 log10(range² / MSE)`, as skimage `peak_signal_noise_ratio` (which CAREamics'
 * `psnr` calls). `dataRange` is required, as in CAREamics, so it is never guessed from a dtype.
 */
export function psnr(gt: Values, pred: Values, dataRange: number): number {
  return 10 * Math.log10((dataRange * dataRange) / meanSquaredError(gt, pred));
}

/**
 * CAREamics' `scale_invariant_psnr` (metrics/metrics.py): the ground truth is standardised, the prediction
 * made zero-mean and scaled by least squares onto it, and the PSNR taken with range (max − min) / std of gt.
 */
export function scaleInvariantPsnr(gt: Values, pred: Values): number {
  checkSameLength(gt, pred, 'scaleInvariantPsnr');
  const n = gt.length;
  const gtMean = mean(gt);
  const predMean = mean(pred);
  let variance = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = gt[i]!;
    variance += (v - gtMean) ** 2;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const std = Math.sqrt(variance / n);
  const gtScaled = Float64Array.from(gt, (v) => (v - gtMean) / std);
  const predCentred = Float64Array.from(pred, (v) => v - predMean);
  let cross = 0;
  let power = 0;
  for (let i = 0; i < n; i++) {
    cross += gtScaled[i]! * predCentred[i]!;
    power += predCentred[i]! * predCentred[i]!;
  }
  const alpha = cross / power;
  const fitted = predCentred.map((v) => v * alpha);
  return psnr(gtScaled, fitted, (max - min) / std);
}

/**
 * The `scale` and `offset` minimising `Σ (scale · source + offset − target)²` (ordinary least squares), e.g. to
 * bring a prediction onto the intensity scale of its ground truth before comparing them.
 */
export function fitScaleOffset(source: Values, target: Values): { scale: number; offset: number } {
  checkSameLength(source, target, 'fitScaleOffset');
  const sourceMean = mean(source);
  const targetMean = mean(target);
  let cross = 0;
  let power = 0;
  for (let i = 0; i < source.length; i++) {
    const s = source[i]! - sourceMean;
    cross += s * (target[i]! - targetMean);
    power += s * s;
  }
  const scale = power === 0 ? 0 : cross / power;
  return { scale, offset: targetMean - scale * sourceMean };
}
