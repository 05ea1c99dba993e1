/**
 * Fitting: CAREamics' pairing, then maximum likelihood on synthetic Poisson-Gaussian data of known parameters
 * (sharp) and on real calibration data, FMD and bacteria (the fitted std-vs-signal curve against the data's own).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/index.js';
import { readAll } from '../../src/io/memory.js';
import { extractRegion, product } from '../../src/io/ndarray.js';
import { openImage } from '../../src/io/node/index.js';
import {
  fitNoiseModel,
  type GaussianMixtureNoiseModel,
  gaussianSigmaFromNoisy,
  gaussianSigmaFromPairs,
  isNoiseModelError,
  noiseModelMoments,
  signalObservationPairs,
} from '../../src/noise/index.js';
import { nodeRuntime } from '../helpers/runtimes.js';
import { HAS_SHARED_DATA, MICROSCOPY } from '../io/helpers.js';

/** Gain·Poisson(s/gain) + N(0, read²): variance gain·s + read², the model CAREamics' linear variance fits exactly. */
function poissonGaussian(signal: Float32Array, gain: number, read: number, rng: Rng): Float32Array {
  const poisson = (lambda: number) => {
    // Knuth's method in chunks of 30 keeps exp(−λ) representable.
    let count = 0;
    for (let left = lambda; left > 0; left -= 30) {
      const l = Math.exp(-Math.min(left, 30));
      let p = rng.random();
      while (p > l) {
        count++;
        p *= rng.random();
      }
    }
    return count;
  };
  return signal.map((s) => gain * poisson(s / gain) + read * rng.normal());
}

describe('signal–observation pairs (CAREamics’ get_signal_observation_pairs)', () => {
  it('pairs observation i with signal i // (N / S) and drops signals not strictly inside the percentiles', () => {
    const signal = { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] };
    const observation = { data: [10, 20, 30, 11, 21, 31, 40, 50, 60, 41, 51, 61], shape: [4, 3] };
    const all = signalObservationPairs(signal, observation);
    // Percentiles 0 and 100 are the min (1) and max (6): strict comparisons drop them, as CAREamics does.
    expect(Array.from(all.signal)).toEqual([2, 3, 2, 3, 4, 5, 4, 5]);
    expect(Array.from(all.observation)).toEqual([20, 30, 21, 31, 40, 50, 41, 51]);
    const clipped = signalObservationPairs(signal, observation, { lowerClip: 50, upperClip: 100 });
    expect(Array.from(clipped.signal)).toEqual([4, 5, 4, 5]);
  });

  it('refuses stacks that do not correspond, naming both shapes', () => {
    const err = (() => {
      try {
        signalObservationPairs(
          { data: new Float32Array(6), shape: [2, 3] },
          { data: new Float32Array(9), shape: [3, 3] },
        );
      } catch (e) {
        return e;
      }
    })();
    expect(isNoiseModelError(err, 'BadCalibrationData')).toBe(true);
    expect((err as Error).message).toContain('observation [3, 3] does not match signal [2, 3]');
  });
});

describe('fitting on synthetic Poisson-Gaussian data', () => {
  const gain = 2;
  const read = 10;
  const rng = new Rng(7);
  const n = 20_000;
  const signal = Float32Array.from({ length: n }, () => rng.uniform(100, 2000));
  const observation = poissonGaussian(signal, gain, read, rng);

  it('recovers the gain and read noise (variance gain·s + read²)', async () => {
    const { model: fitted, losses } = await fitNoiseModel(
      { data: signal, shape: [1, n] },
      { data: observation, shape: [1, n] },
      { runtime: nodeRuntime, epochs: 400, seed: 1 },
    );
    const model = fitted as GaussianMixtureNoiseModel;
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    // Variance = exp(w₁₀) + exp(w₁₁)·u, u = (s − min)/(max − min): exp(w₁₁) = gain·(max − min),
    // exp(w₁₀) = gain·min + read². 20 000 pairs pin the slope to ~1 % and the intercept to ~5 %.
    const span = model.max_signal - model.min_signal;
    expect(Math.exp(model.weight[1]![1]!) / (gain * span)).toBeCloseTo(1, 1);
    expect(Math.exp(model.weight[1]![0]!) / (gain * model.min_signal + read * read)).toBeGreaterThan(0.85);
    expect(Math.exp(model.weight[1]![0]!) / (gain * model.min_signal + read * read)).toBeLessThan(1.15);
    const { mean, std } = noiseModelMoments(model, [300, 1000, 1800]);
    [300, 1000, 1800].forEach((s, i) => {
      expect(mean[i]).toBeCloseTo(s, 6);
      expect(std[i]! / Math.sqrt(gain * s + read * read)).toBeCloseTo(1, 1);
    });
  });

  it('warns when min_sigma floors the variance', async () => {
    const { warnings } = await fitNoiseModel(
      { data: signal, shape: [1, n] },
      { data: observation, shape: [1, n] },
      { runtime: nodeRuntime, epochs: 50, minSigma: 1e5, batchSize: 5000 },
    );
    expect(warnings.join()).toMatch(/min_sigma \(100000, a variance\) floors the fitted variance/);
  });

  it('estimates a Gaussian sigma from pairs and from noisy images alone', () => {
    const pairs = { signal, observation: signal.map((s) => s + 5 * rng.normal()) };
    expect(gaussianSigmaFromPairs(pairs)).toBeCloseTo(5, 1);
    // A smooth 96×96 image (a ramp and a blob) with σ = 5: the Laplacian residual is the noise alone.
    const side = 96;
    const clean = Float32Array.from({ length: side * side }, (_, i) => {
      const y = Math.floor(i / side);
      const x = i % side;
      return 100 + 2 * x + 300 * Math.exp(-((x - 48) ** 2 + (y - 40) ** 2) / 400);
    });
    const noisy = clean.map((c) => c + 5 * rng.normal());
    expect(gaussianSigmaFromNoisy({ data: noisy, shape: [side, side] }) / 5).toBeCloseTo(1, 1);
  });
});

/**
 * The fitted model's std at each signal bin against the empirical std of observation − signal there. Bins are
 * signal deciles (≥ 1000 pairs each: the empirical std's own sampling error is ≤ 1/√(2·1000) ≈ 2 %). A linear
 * variance fits shot + read noise; the rest of the 12 % tolerance covers what the model cannot express: the
 * clean image's residual noise, 8-bit clipping (FMD) and the target's slight bias against the noisy frame
 * (bacteria), which the model, whose mean is the signal by construction, absorbs as extra variance.
 */
async function checkAgainstEmpirical(noisyFile: string, cleanFile: string, crop: number, minSigma: number) {
  const noisy = await readAll(await openImage(MICROSCOPY + noisyFile));
  const clean = await readAll(await openImage(MICROSCOPY + cleanFile));
  const region = {
    start: noisy.shape.map(() => 0),
    stop: noisy.shape.map((d, i) => (i >= noisy.shape.length - 2 ? Math.min(d, crop) : d)),
  };
  const signal = { data: extractRegion(clean, region).data, shape: [1, product(region.stop)] };
  const observation = { data: extractRegion(noisy, region).data, shape: signal.shape };
  const { model } = await fitNoiseModel(signal, observation, {
    runtime: nodeRuntime,
    epochs: 400,
    minSigma,
    seed: 2,
  });
  // The pairs the fit saw (the extreme signal values are dropped, as CAREamics drops them).
  const { signal: sig, observation: obs } = signalObservationPairs(signal, observation);
  const order = Array.from(sig.keys()).sort((a, b) => sig[a]! - sig[b]!);
  const rows: {
    signal: number;
    empiricalMean: number;
    empiricalStd: number;
    modelMean: number;
    modelStd: number;
  }[] = [];
  for (let decile = 1; decile < 10; decile++) {
    const members = order.slice(
      Math.floor((decile * order.length) / 10),
      Math.floor(((decile + 1) * order.length) / 10),
    );
    const s = members.reduce((a, i) => a + sig[i]!, 0) / members.length;
    const o = members.reduce((a, i) => a + obs[i]!, 0) / members.length;
    const r = members.map((i) => obs[i]! - sig[i]!);
    const rMean = r.reduce((a, b) => a + b, 0) / r.length;
    const rStd = Math.sqrt(r.reduce((a, b) => a + (b - rMean) ** 2, 0) / r.length);
    const moments = noiseModelMoments(model, [s]);
    rows.push({
      signal: s,
      empiricalMean: o,
      empiricalStd: rStd,
      modelMean: moments.mean[0]!,
      modelStd: moments.std[0]!,
    });
  }
  if (process.env.NM_REPORT) console.table(rows);
  return rows;
}

describe.skipIf(!HAS_SHARED_DATA)('fitting on real calibration data', () => {
  it('FMD confocal (noisy vs 50-frame average): std curve within 12 %, mean within 0.5 std', async () => {
    const rows = await checkAgainstEmpirical('fmd_3page_raw_float32.tif', 'fmd_3page_gt_float32.tif', 128, 1);
    for (const row of rows) {
      expect(Math.abs(row.modelStd / row.empiricalStd - 1), JSON.stringify(row)).toBeLessThan(0.12);
      expect(row.modelMean).toBeCloseTo(row.signal, 6);
      // This noisy frame runs up to 12 % (0.42 std) darker than the average at bright signals: the pair's bias.
      expect(
        Math.abs(row.modelMean - row.empiricalMean) / row.empiricalStd,
        JSON.stringify(row),
      ).toBeLessThan(0.5);
    }
  });

  it('bacteria (one frame vs average): std curve within 12 %, mean within 0.2 std', async () => {
    const rows = await checkAgainstEmpirical(
      'bacteria_noisy_16bit.png',
      'bacteria_target_16bit.png',
      192,
      125,
    );
    for (const row of rows) {
      expect(Math.abs(row.modelStd / row.empiricalStd - 1), JSON.stringify(row)).toBeLessThan(0.12);
      expect(row.modelMean).toBeCloseTo(row.signal, 6);
      // The target sits up to 0.13 std above the noisy frame's mean: the pair's own bias, not the model's.
      expect(
        Math.abs(row.modelMean - row.empiricalMean) / row.empiricalStd,
        JSON.stringify(row),
      ).toBeLessThan(0.2);
    }
  });
});
