import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configurationIssues,
  createPN2VConfig,
  loadConfigYaml,
  parseConfiguration,
  saveConfigYaml,
} from '../../src/config/index.js';

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
