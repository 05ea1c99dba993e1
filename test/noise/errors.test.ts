/** Bad input to noise models: ranges that do not cover the data, invalid configurations, bad predictions. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseNoiseModelConfig } from '../../src/config/index.js';
import {
  bootstrapPairs,
  checkSignalRange,
  createNoiseModel,
  isNoiseModelError,
} from '../../src/noise/index.js';

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
});
