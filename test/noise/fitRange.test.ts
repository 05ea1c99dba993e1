/**
 * relativeMinSigma: a variance floor scaled to the data. With CAREamics' fixed floor (125) a narrow signal range
 * (a bootstrapped N2V prediction) can start the fit with the variance under the floor everywhere, where its
 * gradient is zero: the fit never moves. Found by the web app's PN2V flow.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/index.js';
import {
  bootstrapNoiseModel,
  fitNoiseModel,
  isNoiseModelError,
  noiseModelMoments,
  relativeMinSigma,
} from '../../src/noise/index.js';
import { nodeRuntime } from '../helpers/runtimes.js';

/** Signal uniform in 74–134 (a blurry prediction's range), observation signal + N(0, 30²). */
function narrowPairs() {
  const rng = new Rng(3);
  const signal = Float32Array.from({ length: 4096 }, () => 74 + 60 * rng.random());
  const observation = signal.map((s) => s + 30 * rng.normal());
  return { signal: { data: signal, shape: [1, 4096] }, observation: { data: observation, shape: [1, 4096] } };
}

describe('relativeMinSigma', () => {
  it('is 1e-4 of the data variance', () => {
    expect(relativeMinSigma(Float32Array.of(0, 2, 0, 2))).toBeCloseTo(1e-4, 10);
    expect(relativeMinSigma(Float32Array.of(5, 5))).toBeGreaterThan(0);
  });

  it('lets a fit from a narrow signal range reach the noise where the fixed floor stalls it', async () => {
    const { signal, observation } = narrowPairs();
    const options = { runtime: nodeRuntime, seed: 42, epochs: 2000 };
    const stalled = await fitNoiseModel(signal, observation, options);
    expect(stalled.losses.at(-1)).toBeCloseTo(stalled.losses[0]!, 4);
    const fitted = await fitNoiseModel(signal, observation, {
      ...options,
      minSigma: relativeMinSigma(observation.data),
    });
    const { std } = noiseModelMoments(fitted.model, [80, 100, 130]);
    for (const s of std) {
      expect(s).toBeGreaterThan(27);
      expect(s).toBeLessThan(33);
    }
    expect(fitted.warnings).toEqual([]);
  });

  it('is the floor a bootstrap uses unless minSigma is given', async () => {
    const { signal, observation } = narrowPairs();
    const image = { data: observation.data, shape: [64, 64], axes: 'YX' };
    const denoiser = { predict: async () => ({ data: signal.data, shape: [64, 64], axes: 'YX' }) };
    const fit = await bootstrapNoiseModel(denoiser, [image], {
      runtime: nodeRuntime,
      seed: 42,
      epochs: 2000,
    });
    expect(fit.model.min_sigma).toBeCloseTo(relativeMinSigma(observation.data), 6);
    for (const s of noiseModelMoments(fit.model, [80, 100, 130]).std) {
      expect(s).toBeGreaterThan(27);
      expect(s).toBeLessThan(33);
    }
  });
});

describe('fitNoiseModel on a negative signal', () => {
  it('says min_signal must be ≥ 0 and what to do, in one line', async () => {
    const signal = Float32Array.from({ length: 64 }, (_, i) => i - 8);
    const observation = signal.map((s, i) => s + (i % 2 ? 1 : -1));
    const fit = fitNoiseModel(
      { data: signal, shape: [1, 64] },
      { data: observation, shape: [1, 64] },
      {
        runtime: nodeRuntime,
        epochs: 1,
      },
    );
    const err = await fit.catch((e: unknown) => e);
    expect(isNoiseModelError(err, 'BadCalibrationData')).toBe(true);
    expect((err as Error).message).toMatch(/signal goes down to -7\.000.*min_signal must be ≥ 0.*offset/);
    expect((err as Error).message).not.toContain('\n');
  });
});
