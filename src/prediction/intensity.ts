/**
 * The intensity transforms around the model in tiled prediction: CAREamics' mean/std normalization of the input
 * and its inverse on the output (`normalization`), or bioimage.io's per-sample `zero_mean_unit_variance`
 * (`standardization`, statistics of the whole sample computed before tiling).
 */
import { PredictionError } from './errors.js';
import type { Normalization, PredictOptions, Standardization } from './types.js';

const EPS = 1e-6;

/** Input and output statistics for `normalization`, checked against the channel counts. */
export function checkNormalization(norm: Normalization | undefined, inChannels: number, outChannels: number) {
  if (norm === undefined) return undefined;
  const targetMean = norm.targetMean ?? (outChannels === inChannels ? norm.mean : undefined);
  const targetStd = norm.targetStd ?? (outChannels === inChannels ? norm.std : undefined);
  const ok =
    norm.mean.length === inChannels &&
    norm.std.length === inChannels &&
    targetMean?.length === outChannels &&
    targetStd?.length === outChannels;
  if (!ok) {
    throw new PredictionError(
      'InvalidNormalization',
      `normalization needs ${inChannels} input mean/std value(s) and, for ${outChannels} output channel(s), ` +
        'target stats unless input and output channel counts match',
    );
  }
  return { input: { mean: norm.mean, std: norm.std }, output: { mean: targetMean!, std: targetStd! } };
}

/** `standardization` checked: one set of per-channel statistics, or one per sample; never with `normalization`. */
export function checkStandardization(options: PredictOptions, samples: number, inChannels: number) {
  const s = options.standardization;
  if (s === undefined) return undefined;
  if (options.normalization !== undefined)
    throw new PredictionError('InvalidNormalization', 'give normalization or standardization, not both');
  const ok =
    (s.mean.length === 1 || s.mean.length === samples) &&
    s.std.length === s.mean.length &&
    s.mean.every((m, i) => m.length === inChannels && s.std[i]!.length === inChannels) &&
    Number.isFinite(s.eps);
  if (!ok) {
    throw new PredictionError(
      'InvalidNormalization',
      `standardization needs ${inChannels} mean/std value(s) for each of the ${samples} sample(s), or for one`,
    );
  }
  return s;
}

/** `(x − μ) / (σ + eps)` per channel of each tile of a (B, C, …) batch, with the statistics of the tile's sample. */
export function standardize(
  data: Float32Array,
  sampleOfTile: readonly number[],
  channels: number,
  s: Standardization,
): void {
  const planeSize = data.length / (sampleOfTile.length * channels);
  for (const [slot, sample] of sampleOfTile.entries()) {
    const k = s.mean.length === 1 ? 0 : sample;
    for (let c = 0; c < channels; c++) {
      const m = s.mean[k]![c]!;
      const d = s.std[k]![c]! + s.eps;
      const start = (slot * channels + c) * planeSize;
      for (let i = start; i < start + planeSize; i++) data[i] = (data[i]! - m) / d;
    }
  }
}

/** `(x − μ) / (σ + 1e-6)` or its inverse `x (σ + 1e-6) + μ`, per channel of a (B, C, ...) buffer. */
export function applyPerChannel(
  data: Float32Array,
  batch: number,
  channels: number,
  stats: { mean: readonly number[]; std: readonly number[] },
  direction: 'normalize' | 'denormalize',
): void {
  const planeSize = data.length / (batch * channels);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const m = stats.mean[c]!;
      const s = stats.std[c]! + EPS;
      const start = (b * channels + c) * planeSize;
      const end = start + planeSize;
      if (direction === 'normalize') for (let i = start; i < end; i++) data[i] = (data[i]! - m) / s;
      else for (let i = start; i < end; i++) data[i] = data[i]! * s + m;
    }
  }
}
