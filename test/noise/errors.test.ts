/** Bad input to noise models: ranges that do not cover the data, invalid configurations, bad predictions. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseNoiseModelConfig } from '../../src/config/index.js';
import {
  bootstrapNoiseModel,
  bootstrapPairs,
  checkSignalRange,
  createNoiseModel,
  isNoiseModelError,
} from '../../src/noise/index.js';
import { nodeRuntime } from '../helpers/runtimes.js';

const model = createNoiseModel({
  model_type: 'GaussianMixtureNoiseModel',
  weight: [
    [0, 0],
    [5, 6],
    [0, 0],
  ],
  min_signal: 100,
  max_signal: 3000,
});

async function errorOf(fn: () => unknown) {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('signal range', () => {
  it('is silent when the data lies inside [min_signal, max_signal]', () => {
    expect(checkSignalRange(model, { min: 100, max: 3000 })).toBeUndefined();
    expect(
      checkSignalRange(createNoiseModel({ model_type: 'GaussianNoiseModel', sigma: 3 }), {
        min: -1e9,
        max: 1e9,
      }),
    ).toBeUndefined();
  });

  it('warns with both ranges where the likelihood is extrapolated, or refuses when strict', async () => {
    expect(checkSignalRange(model, { min: 20, max: 2000 }, { source: 'nm.npz' })).toBe(
      "nm.npz: the data's intensities [20, 2000] are not covered by the noise model's signal range [min_signal, max_signal] = [100, 3000]; the likelihood is extrapolated there",
    );
    const err = await errorOf(() =>
      checkSignalRange(model, { min: 150, max: 65535 }, { source: 'nm.npz', strict: true }),
    );
    expect(isNoiseModelError(err, 'SignalOutOfRange')).toBe(true);
    expect(err.message).toContain('[150, 65535]');
    expect(err.message).toContain('[100, 3000]');
  });
});

describe('configuration', () => {
  it('has CAREamics’ defaults', () => {
    expect(parseNoiseModelConfig({ model_type: 'GaussianMixtureNoiseModel' })).toEqual({
      model_type: 'GaussianMixtureNoiseModel',
      path: null,
      weight: null,
      n_gaussian: 1,
      n_coeff: 2,
      min_signal: 0,
      max_signal: 1,
      min_sigma: 125,
      tol: 1e-10,
    });
  });

  it('names the offending field', async () => {
    const cases: [unknown, string][] = [
      [
        {
          model_type: 'GaussianMixtureNoiseModel',
          n_gaussian: 2,
          weight: [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
        },
        'weight: must be 3·n_gaussian × n_coeff = 6×2, got 3×[2]',
      ],
      [{ model_type: 'GaussianMixtureNoiseModel', n_coeff: 1 }, 'n_coeff: '],
      [
        { model_type: 'GaussianMixtureNoiseModel', path: 'nm.txt' },
        'path: must point to a .npz file, got "nm.txt"',
      ],
      [
        { model_type: 'GaussianMixtureNoiseModel', min_signal: 5, max_signal: 5 },
        'max_signal: must be greater than min_signal (5), got 5',
      ],
      [{ model_type: 'GaussianNoiseModel', sigma: 0 }, 'sigma: '],
      [{ model_type: 'Histogram' }, 'model_type'],
    ];
    for (const [input, expected] of cases) {
      const err = await errorOf(() => parseNoiseModelConfig(input));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(expected);
    }
  });

  it('needs the weight to evaluate a mixture', async () => {
    const err = await errorOf(() => createNoiseModel({ model_type: 'GaussianMixtureNoiseModel' }));
    expect(isNoiseModelError(err, 'MissingField')).toBe(true);
    expect(err.message).toMatch(/weight is null; fit the model/);
  });
});

describe('bootstrap pairs', () => {
  const image = { data: Float32Array.from({ length: 16 }, (_, i) => i), shape: [4, 4], axes: 'YX' };

  it('pairs each pixel with its prediction', async () => {
    const denoiser = { predict: async (x: typeof image) => ({ ...x, data: x.data.map((v) => v + 0.5) }) };
    const pairs = await bootstrapPairs(denoiser, [image, image]);
    expect(pairs.observation.length).toBe(32);
    expect(pairs.signal[17]).toBe(1.5);
    expect(pairs.observation[17]).toBe(1);
  });

  it('refuses a prediction that is not pixel for pixel the image', async () => {
    const twoChannels = {
      predict: async () => ({ data: new Float32Array(32), shape: [2, 4, 4], axes: 'CYX' }),
    };
    const err = await errorOf(() => bootstrapPairs(twoChannels, [image]));
    expect(isNoiseModelError(err, 'BadCalibrationData')).toBe(true);
    expect(err.message).toContain('the prediction [2, 4, 4] CYX does not match the image [4, 4] YX');
  });

  // A bootstrap on dim data (FMD) failed on N2V's slight undershoot below zero: min_signal must be ≥ 0.
  const dim = {
    data: Float32Array.from({ length: 4096 }, (_, i) => 5 + (i % 50)),
    shape: [64, 64],
    axes: 'YX',
  };
  const undershooting = (negatives: number) => ({
    predict: async (x: typeof dim) => ({
      ...x,
      data: x.data.map((v, i) => (i < negatives ? -0.05 * (1 + (i % 3)) : v)),
    }),
  });

  it('sets a denoiser undershooting a few pixels below 0 to 0, with a warning', async () => {
    const fit = await bootstrapNoiseModel(undershooting(20), [dim], {
      runtime: nodeRuntime,
      epochs: 5,
      minSigma: 1,
    });
    expect(fit.model.min_signal).toBeGreaterThanOrEqual(0);
    expect(fit.signal.every((s) => s >= 0)).toBe(true);
    expect(fit.warnings[0]).toMatch(
      /^20 predicted pixels \(0\.49 %, down to -0\.150\) were below 0 and were set to 0/,
    );
  });

  it('refuses offset data (many negative predictions) with the fit’s advice', async () => {
    const err = await errorOf(() =>
      bootstrapNoiseModel(undershooting(1000), [dim], { runtime: nodeRuntime, epochs: 5, minSigma: 1 }),
    );
    expect(isNoiseModelError(err, 'BadCalibrationData')).toBe(true);
    expect(err.message).toMatch(/min_signal must be ≥ 0 .*add an offset/);
  });
});
