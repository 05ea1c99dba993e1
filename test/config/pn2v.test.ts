import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configurationIssues,
  createPN2VConfig,
  gaussianMixtureFromSigma,
  loadConfigYaml,
  parseConfiguration,
  saveConfigYaml,
} from '../../src/config/index.js';
import { createNoiseModel, likelihood } from '../../src/noise/index.js';

const base = {
  experimentName: 'pn2v',
  dataType: 'array' as const,
  axes: 'SYX',
  patchSize: [64, 64],
  batchSize: 8,
};

describe('pn2v configuration', () => {
  it('a GaussianNoiseModel gives a Gaussian prior: mean and log-variance per channel', () => {
    const config = createPN2VConfig({ ...base, noiseModel: { model_type: 'GaussianNoiseModel', sigma: 25 } });
    const a = config.algorithm_config;
    expect(a.algorithm).toBe('pn2v');
    expect(a.loss).toBe('pn2v');
    expect(a.model.num_classes).toBe(2);
    expect(a.algorithm === 'pn2v' && a.noise_model).toEqual({ model_type: 'GaussianNoiseModel', sigma: 25 });
    expect(config.training_config.early_stopping_params).toBeNull();
  });

  it('a GaussianMixtureNoiseModel gives K samples per channel, K·in_channels outputs', () => {
    const config = createPN2VConfig({
      ...base,
      axes: 'SYXC',
      nChannels: 2,
      numSamples: 64,
      noiseModel: { model_type: 'GaussianMixtureNoiseModel', path: 'nm.npz' },
    });
    expect(config.algorithm_config.model.num_classes).toBe(128);
    expect(config.algorithm_config.model.independent_channels).toBe(true);
  });

  it('noiseSigma with numSamples is that Gaussian as a one-component mixture (samples prior); alone, a Gaussian prior', () => {
    const samples = createPN2VConfig({ ...base, noiseSigma: 25, numSamples: 16 }).algorithm_config;
    expect(samples.model.num_classes).toBe(16);
    expect(samples.algorithm === 'pn2v' && samples.noise_model).toEqual(gaussianMixtureFromSigma(25));
    const prior = createPN2VConfig({ ...base, noiseSigma: 25 }).algorithm_config;
    expect(prior.algorithm === 'pn2v' && prior.noise_model).toEqual({
      model_type: 'GaussianNoiseModel',
      sigma: 25,
    });
    expect(() => createPN2VConfig({ ...base })).toThrow(/noiseModel or noiseSigma/);
  });

  it.each([0.01, 1, 25, 3000])(
    'the mixture from σ = %f has the Gaussian likelihood (relative error ≤ 1e-6)',
    (sigma) => {
      const mixture = createNoiseModel(gaussianMixtureFromSigma(sigma));
      expect(mixture.model_type === 'GaussianMixtureNoiseModel' && mixture.min_sigma).toBeLessThan(
        sigma * sigma,
      );
      const gaussian = createNoiseModel({ model_type: 'GaussianNoiseModel', sigma });
      // Signals over 8- and 16-bit ranges and below zero, observations up to 4σ away.
      const signal: number[] = [];
      const observation: number[] = [];
      for (const s of [-500, 0, 1, 127.5, 255, 4095, 65535]) {
        for (const z of [-4, -1.5, 0, 0.3, 2, 4]) {
          signal.push(s);
          observation.push(s + z * sigma);
        }
      }
      const fromMixture = likelihood(mixture, observation, signal);
      const exact = likelihood(gaussian, observation, signal);
      for (let i = 0; i < exact.length; i++) {
        // CAREamics adds tol (1e-10) to the mixture's density, so compare above it.
        expect(Math.abs(fromMixture[i]! - 1e-10 - exact[i]!) / exact[i]!).toBeLessThanOrEqual(1e-6);
      }
    },
  );

  it('survives a YAML round trip', () => {
    const config = createPN2VConfig({
      ...base,
      useN2V2: true,
      noiseModel: { model_type: 'GaussianMixtureNoiseModel', path: 'nm.npz', n_gaussian: 3, n_coeff: 2 },
    });
    expect(loadConfigYaml(saveConfigYaml(config)).config).toEqual(config);
  });

  const valid = () =>
    JSON.parse(
      JSON.stringify(
        createPN2VConfig({ ...base, noiseModel: { model_type: 'GaussianNoiseModel', sigma: 25 } }),
      ),
    );

  it('without noise_model is a ConfigError naming noise_model', () => {
    const input = valid();
    delete input.algorithm_config.noise_model;
    expect(() => parseConfiguration(input)).toThrow(ConfigError);
    expect(() => parseConfiguration(input)).toThrow(/algorithm_config\.noise_model/);
  });

  it('refuses by name: num_classes that is not the prior, a mixture without weights, residual, N2V2 masking', () => {
    const issuesOf = (edit: (c: ReturnType<typeof valid>) => void) => {
      const input = valid();
      edit(input);
      return configurationIssues(input).map((i) => i.path);
    };
    expect(issuesOf((c) => (c.algorithm_config.model.num_classes = 1))).toContain(
      'algorithm_config.model.num_classes',
    );
    expect(
      issuesOf((c) => {
        c.algorithm_config.noise_model = { model_type: 'GaussianMixtureNoiseModel' };
      }),
    ).toContain('algorithm_config.noise_model.path');
    expect(issuesOf((c) => (c.algorithm_config.model.residual = true))).toContain(
      'algorithm_config.model.residual',
    );
    expect(issuesOf((c) => (c.algorithm_config.model.n2v2 = true))).toContain(
      'algorithm_config.n2v_config.strategy',
    );
    expect(issuesOf((c) => (c.algorithm_config.noise_model.sigmaa = 3))).toContain(
      'algorithm_config.noise_model',
    );
    expect(() =>
      createPN2VConfig({
        ...base,
        numSamples: 10,
        noiseModel: { model_type: 'GaussianNoiseModel', sigma: 1 },
      }),
    ).toThrow(/numSamples/);
  });
});
