import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createCareConfig,
  createN2NConfig,
  createN2VConfig,
  loadConfigYaml,
  resolveCheckpointParams,
  resolveLrScheduler,
  resolveOptimizer,
  resolveTrainerParams,
  saveConfigYaml,
} from '../../src/config/index.js';
import { expectIssue } from './helpers.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const base = {
  experimentName: 'round trip',
  dataType: 'tiff',
  axes: 'SYX',
  patchSize: [64, 64],
  batchSize: 16,
  seed: 3,
} as const;

describe('saveConfigYaml → loadConfigYaml', () => {
  it.each([
    ['N2V', createN2VConfig(base)],
    [
      'N2V2 + structN2V',
      createN2VConfig({ ...base, useN2V2: true, structN2VAxis: 'cross', structN2VSpan: 3 }),
    ],
    ['CARE', createCareConfig({ ...base, axes: 'SCYX', nChannelsIn: 2, nChannelsOut: 2, numSteps: 50 })],
    [
      'N2N 3D',
      createN2NConfig({ ...base, axes: 'SZYX', patchSize: [16, 32, 32], normalization: 'quantile' }),
    ],
  ])('is the identity for %s', (_, config) => {
    const text = saveConfigYaml(config);
    const { config: loaded, warnings } = loadConfigYaml(text);
    expect(loaded).toEqual(config);
    expect(saveConfigYaml(loaded)).toBe(text);
    expect(warnings).toEqual([]);
  });

  it('writes CAREamics field names in CAREamics order', () => {
    const text = saveConfigYaml(createN2VConfig(base));
    const topLevel = text
      .split('\n')
      .filter((l) => /^\w/.test(l))
      .map((l) => l.split(':')[0]);
    expect(topLevel).toEqual([
      'version',
      'experiment_name',
      'algorithm_config',
      'data_config',
      'training_config',
    ]);
    expect(text).toContain('final_activation: None\n');
    expect(text).toContain('max_epochs: 30\n');
  });

  it('writes exponents PyYAML reads as floats, and reads them back', () => {
    const config = createN2VConfig({
      ...base,
      optimizerParams: { lr: 1e-4, eps: 1e-8 },
      lrSchedulerParams: { min_lr: 1.5e-7 },
    });
    const text = saveConfigYaml(config);
    expect(text).toContain('eps: 1.0e-8\n');
    expect(text).toContain('min_lr: 1.5e-7\n');
    expect(loadConfigYaml(text).config).toEqual(config);
  });
});

describe('CAREamics careamics.yaml', () => {
  it('loads the HEAD fixture with every field kept', () => {
    const { config, warnings } = loadConfigYaml(fixture('careamics.yaml'));
    expect(warnings).toEqual([]);
    expect(config.experiment_name).toBe('BSD68 N2V');
    const alg = config.algorithm_config;
    if (alg.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(alg.n2v_config.seed).toBe(1718393247);
    expect(config.data_config.normalization).toMatchObject({
      input_means: [110.72957611083984],
      input_stds: [63.656803131103516],
    });
    expect(config.data_config.train_dataloader_params).toEqual({
      shuffle: true,
      pin_memory: true,
      num_workers: 4,
      persistent_workers: true,
    });
    expect(config.training_config.logger).toBe('tensorboard');
    expect(resolveTrainerParams(config.training_config).max_epochs).toBe(100);
    expect(resolveCheckpointParams(config.training_config)).toMatchObject({
      every_n_epochs: 10,
      save_top_k: -1,
    });
    // Written back, it reads the same.
    expect(loadConfigYaml(saveConfigYaml(config)).config).toEqual(config);
  });

  it('loads the legacy v0.1.0 fixture into the current shape, reporting each rewrite', () => {
    const { config, warnings } = loadConfigYaml(fixture('careamics-v0.1.0.yaml'));
    expect(config.version).toBe('0.3.0');
    const alg = config.algorithm_config;
    if (alg.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(alg.n2v_config.struct_mask).toEqual({ axes: 'horizontal', span: 11 });
    expect(resolveOptimizer(alg.optimizer).lr).toBe(4e-4);
    expect(resolveLrScheduler(alg.lr_scheduler)).toMatchObject({ factor: 0.5, patience: 10 });
    const d = config.data_config;
    expect(d.patching).toMatchObject({ name: 'stratified', patch_size: [64, 64] });
    expect(d.normalization).toMatchObject({
      name: 'mean_std',
      input_means: [502.70743],
      input_stds: [32.871851],
    });
    expect(d.augmentations).toEqual([]);
    expect(config.training_config.trainer_params).toEqual({ max_epochs: 50 });
    expect(resolveCheckpointParams(config.training_config)).toMatchObject({
      monitor: 'val_loss',
      save_top_k: 3,
      save_last: true,
    });
    expect(config.training_config.early_stopping_params).toBeNull();
    expect(warnings).toEqual(
      expect.arrayContaining([
        'data_config.patch_size: legacy field, read as patching {name: stratified, patch_size}',
        'data_config.transforms: legacy field, read as augmentations',
        'training_config.lightning_trainer_config: legacy field, read as trainer_params',
        'training_config.checkpoint_callback: legacy field, read as checkpoint_params',
        'version: "0.1.0" read as "0.3.0"',
      ]),
    );
    // Saved, it is in the current shape and loads without rewrites.
    const again = loadConfigYaml(saveConfigYaml(config));
    expect(again.config).toEqual(config);
    expect(again.warnings).toEqual([]);
  });

  it('reads the oldest training_config.num_epochs and N2VManipulate in transforms', () => {
    const text = `
experiment_name: old
algorithm_config: {algorithm: n2v, loss: n2v, model: {architecture: UNet}}
data_config:
  data_type: array
  axes: YX
  patch_size: [64, 64]
  batch_size: 8
  transforms:
    - {name: XYFlip}
    - {name: N2VManipulate, roi_size: 7}
training_config: {num_epochs: 12, gradient_clip_val: 1.0}
`;
    const { config } = loadConfigYaml(text);
    expect(config.training_config.trainer_params).toEqual({ max_epochs: 12, gradient_clip_val: 1 });
    expect(config.data_config.augmentations).toEqual([
      { name: 'XYFlip', flip_x: true, flip_y: true, p: 0.5, seed: config.data_config.seed },
    ]);
    if (config.algorithm_config.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(config.algorithm_config.n2v_config.roi_size).toBe(7);
  });
});

describe('configurations of each CAREamics release', () => {
  // Each fixture's header says which tag, factory call and files it was written from.
  it.each([
    ['careamics-v0.0.2.yaml', '0.0.2 to 0.0.9', '0.1.0'],
    ['careamics-v0.0.15.yaml', '0.0.13 to 0.0.15', '0.1.0'],
    ['careamics-v0.0.22.yaml', '0.0.16 to 0.0.22', '0.1.0'],
    ['careamics-v0.1.0.yaml', '0.1.0', '0.1.0'],
    ['careamics-v0.2.0.yaml', '0.2.0', '0.2.0'],
    ['careamics-v0.3.2.yaml', '0.3.0 to HEAD', '0.3.0'],
    ['careamics.yaml', 'HEAD', '0.3.0'],
  ])('loads %s, recognised as CAREamics %s (config version %s)', (name, releases, configVersion) => {
    const { config, recognised } = loadConfigYaml(fixture(name));
    expect(recognised).toEqual({ releases, configVersion });
    expect(config.version).toBe('0.3.0');
    expect(config.algorithm_config.algorithm).toBe('n2v');
    // Saved, it is in the current shape and loads without rewrites.
    const again = loadConfigYaml(saveConfigYaml(config));
    expect(again.config).toEqual(config);
    expect(again.warnings).toEqual([]);
    expect(again.recognised.releases).toBe('HEAD');
  });

  it('reads v0.0.2: N2VManipulate in transforms, num_epochs and checkpoint_callback', () => {
    const { config, warnings } = loadConfigYaml(fixture('careamics-v0.0.2.yaml'));
    const alg = config.algorithm_config;
    if (alg.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(alg.n2v_config).toMatchObject({ roi_size: 11, masked_pixel_percentage: 0.2, struct_mask: null });
    expect(resolveOptimizer(alg.optimizer).lr).toBe(1e-4);
    expect(config.data_config.augmentations.map((a) => a.name)).toEqual(['XYFlip', 'XYRandomRotate90']);
    expect(config.data_config.normalization).toMatchObject({ input_means: [351.2344665527344] });
    expect(config.training_config.trainer_params).toEqual({ max_epochs: 100 });
    expect(resolveCheckpointParams(config.training_config)).toMatchObject({ save_top_k: 3, save_last: true });
    expect(warnings).toContain('data_config.transforms: N2VManipulate read as algorithm_config.n2v_config');
  });

  it('reads v0.0.15 (the issue-15 file): remove_center true is ignored with one warning line', () => {
    const { config, warnings } = loadConfigYaml(fixture('careamics-v0.0.15.yaml'));
    if (config.algorithm_config.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(config.algorithm_config.n2v_config).not.toHaveProperty('remove_center');
    expect(config.training_config.trainer_params).toMatchObject({ max_epochs: 100, precision: '32' });
    expect(config.data_config.train_dataloader_params).toEqual({
      shuffle: true,
      num_workers: 8,
      pin_memory: true,
    });
    expect(warnings).toContain(
      'algorithm_config.n2v_config.remove_center: true is what careamics-js does (centre pixel never drawn), ignored',
    );
    expect(warnings.filter((w) => w.includes('remove_center'))).toHaveLength(1);
  });

  it('reads v0.0.22 and v0.2.0 structN2V masks, and v0.3.2 as is', () => {
    for (const name of ['careamics-v0.0.22.yaml', 'careamics-v0.2.0.yaml', 'careamics-v0.3.2.yaml']) {
      const { config } = loadConfigYaml(fixture(name));
      if (config.algorithm_config.algorithm !== 'n2v') throw new Error('expected n2v');
      expect(config.algorithm_config.n2v_config.struct_mask, name).toEqual({ axes: 'horizontal', span: 7 });
      expect(resolveTrainerParams(config.training_config).max_epochs, name).toBe(100);
    }
  });

  it('refuses remove_center: false, naming the field', () => {
    const text = fixture('careamics-v0.0.15.yaml').replace('remove_center: true', 'remove_center: false');
    expectIssue(
      () => loadConfigYaml(text),
      'algorithm_config.n2v_config.remove_center',
      /false is not supported: careamics-js never draws the centre pixel/,
    );
  });

  it('reads v0.0.2 to v0.0.6 dataloader_params as unshuffled training dataloader arguments', () => {
    const text = fixture('careamics-v0.0.2.yaml').replace(
      'training_config:',
      '  dataloader_params:\n    num_workers: 4\ntraining_config:',
    );
    const { config, warnings } = loadConfigYaml(text);
    expect(config.data_config.train_dataloader_params).toEqual({ shuffle: false, num_workers: 4 });
    expect(warnings).toContain(
      'data_config.dataloader_params: legacy field, read as train_dataloader_params (shuffle: false unless set)',
    );
  });

  it('ignores v0.0.3 algorithm_type with a warning', () => {
    const text = fixture('careamics-v0.0.2.yaml').replace(
      '  loss: n2v',
      '  algorithm_type: fcn\n  loss: n2v',
    );
    const { warnings, recognised } = loadConfigYaml(text);
    expect(recognised.releases).toBe('0.0.3');
    expect(warnings).toContain(
      'algorithm_config.algorithm_type: CAREamics 0.0.3 field, implied by algorithm, ignored',
    );
  });

  it('recognises no release for fields that no single release writes together', () => {
    const text = fixture('careamics-v0.0.15.yaml').replace('version: 0.1.0', 'version: 0.3.0');
    expect(loadConfigYaml(text).recognised).toEqual({ releases: null, configVersion: '0.3.0' });
  });
});

describe('loadConfigYaml errors', () => {
  it('names an unknown algorithm', () => {
    const text = fixture('careamics.yaml').replace('algorithm: n2v', 'algorithm: hdn');
    const err = expectIssue(() => loadConfigYaml(text), 'algorithm_config.algorithm');
    expect(err.message).toContain('unknown algorithm "hdn"; expected one of "n2v", "pn2v", "care", "n2n"');
  });

  it('names the field of an invalid value', () => {
    const text = fixture('careamics.yaml').replace('depth: 2', 'depth: 7');
    expectIssue(
      () => loadConfigYaml(text),
      'data_config.patching.patch_size',
      /2\*\*depth=128, got \[64, 64\]/,
    );
  });

  it('rejects malformed YAML', () => {
    expectIssue(() => loadConfigYaml('a: [1, 2'), '', /malformed YAML/);
  });
});
