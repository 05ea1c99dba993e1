import { describe, expect, it } from 'vitest';
import {
  createCareConfig,
  createN2NConfig,
  createN2VConfig,
  createStructN2VConfig,
  parseConfiguration,
  resolveCheckpointParams,
  resolveEarlyStoppingParams,
  resolveLrScheduler,
  resolveOptimizer,
  resolveTrainerParams,
} from '../../src/config/index.js';
import { minimal } from './helpers.js';

const base = {
  experimentName: 'exp',
  dataType: 'tiff',
  axes: 'SYX',
  patchSize: [64, 64],
  batchSize: 16,
  seed: 7,
} as const;

const DEFAULT_UNET = {
  architecture: 'UNet',
  conv_dims: 2,
  num_classes: 1,
  in_channels: 1,
  depth: 2,
  num_channels_init: 32,
  residual: false,
  final_activation: 'None',
  n2v2: false,
  independent_channels: true,
  use_batch_norm: true,
};

describe('schema defaults of a minimal configuration', () => {
  const { config } = parseConfiguration(minimal('n2v'));

  it('fills the root', () => {
    expect(config.version).toBe('0.3.0');
    expect(config.experiment_name).toBe('minimal');
  });

  it('fills the UNet', () => {
    expect(config.algorithm_config.model).toEqual(DEFAULT_UNET);
  });

  it('fills the N2V algorithm', () => {
    const alg = config.algorithm_config;
    if (alg.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(alg.loss).toBe('n2v');
    expect(alg.monitor_metric).toBe('val_loss');
    expect(alg.optimizer).toEqual({ name: 'Adam', parameters: {} });
    expect(alg.lr_scheduler).toEqual({ name: 'ReduceLROnPlateau', parameters: {} });
    expect(alg.n2v_config.name).toBe('N2VManipulate');
    expect(alg.n2v_config.roi_size).toBe(11);
    expect(alg.n2v_config.masked_pixel_percentage).toBe(0.2);
    expect(alg.n2v_config.strategy).toBe('uniform');
    expect(alg.n2v_config.struct_mask).toBeNull();
    expect(Number.isInteger(alg.n2v_config.seed) && alg.n2v_config.seed > 0).toBe(true);
  });

  it('fills the data config', () => {
    const d = config.data_config;
    expect(d.mode).toBe('training');
    expect(d.target_axes).toBeNull();
    expect(d.normalization).toEqual({
      name: 'mean_std',
      per_channel: true,
      skip_target: false,
      input_means: null,
      input_stds: null,
      target_means: null,
      target_stds: null,
    });
    expect(d.batch_size).toBe(8);
    expect(d.in_memory).toBe(true);
    expect(d.n_val_patches).toBe(8);
    expect(d.channels).toBeNull();
    expect(d.patch_filter).toBeNull();
    expect(d.mask_filter).toEqual({ name: 'mask', ref_channel: 0, filtered_patch_prob: 0.1, coverage: 0.25 });
    expect(d.train_dataloader_params).toEqual({ shuffle: true });
    expect(d.val_dataloader_params).toEqual({});
    expect(d.pred_dataloader_params).toEqual({});
    expect(d.num_workers).toBe(0);
    expect(Number.isInteger(d.seed) && d.seed > 0).toBe(true);
    // The data seed propagates to patching and augmentations that have none.
    expect(d.patching).toEqual({ name: 'stratified', patch_size: [64, 64], seed: d.seed });
    expect(d.augmentations).toEqual([
      { name: 'XYFlip', flip_x: true, flip_y: true, p: 0.5, seed: d.seed },
      { name: 'XYRandomRotate90', p: 0.5, seed: d.seed },
    ]);
  });

  it('uses the self-supervised training defaults for N2V', () => {
    expect(config.training_config).toEqual({
      trainer_params: {},
      logger: null,
      checkpoint_params: {
        every_n_epochs: 10,
        save_top_k: -1,
        save_last: true,
        auto_insert_metric_name: false,
      },
      early_stopping_params: null,
    });
  });

  it('uses top-3 checkpoints and early stopping for CARE, loss mae', () => {
    const care = parseConfiguration(minimal('care')).config;
    expect(care.algorithm_config.loss).toBe('mae');
    expect(care.training_config).toEqual({
      trainer_params: {},
      logger: null,
      checkpoint_params: {
        monitor: 'val_loss',
        mode: 'min',
        save_top_k: 3,
        save_last: true,
        auto_insert_metric_name: false,
      },
      early_stopping_params: { monitor: 'val_loss', mode: 'min' },
    });
  });

  it('uses the self-supervised checkpoints and no early stopping for N2N, loss mae', () => {
    const n2n = parseConfiguration(minimal('n2n')).config;
    expect(n2n.algorithm_config.loss).toBe('mae');
    expect(n2n.training_config.checkpoint_params).toEqual({
      every_n_epochs: 10,
      save_top_k: -1,
      save_last: true,
      auto_insert_metric_name: false,
    });
    expect(n2n.training_config.early_stopping_params).toBeNull();
  });

  it('derives in_memory and the mask filter coverage from data type and axes', () => {
    const input = minimal();
    input.data_config = {
      ...input.data_config,
      data_type: 'zarr',
      axes: 'ZYX',
      patching: { name: 'stratified', patch_size: [16, 64, 64] },
    };
    input.algorithm_config.model = { conv_dims: 3 };
    const d = parseConfiguration(input).config.data_config;
    expect(d.in_memory).toBe(false);
    expect(d.mask_filter?.coverage).toBe(0.125);
  });

  it('resolves the torch and Lightning defaults', () => {
    const alg = config.algorithm_config;
    expect(resolveOptimizer(alg.optimizer)).toEqual({
      name: 'Adam',
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weight_decay: 0,
      amsgrad: false,
      maximize: false,
    });
    expect(resolveLrScheduler(alg.lr_scheduler)).toEqual({
      name: 'ReduceLROnPlateau',
      mode: 'min',
      factor: 0.1,
      patience: 10,
      threshold: 1e-4,
      threshold_mode: 'rel',
      cooldown: 0,
      min_lr: 0,
      eps: 1e-8,
    });
    expect(resolveTrainerParams(config.training_config).max_epochs).toBe(1000);
    expect(resolveCheckpointParams(config.training_config)).toMatchObject({
      every_n_epochs: 10,
      save_top_k: -1,
      save_last: true,
      monitor: null,
    });
    expect(resolveEarlyStoppingParams(config.training_config)).toBeNull();
    const care = parseConfiguration(minimal('care')).config.training_config;
    expect(resolveEarlyStoppingParams(care)).toEqual({
      monitor: 'val_loss',
      mode: 'min',
      min_delta: 0,
      patience: 3,
      check_finite: true,
      stopping_threshold: null,
      divergence_threshold: null,
    });
    expect(resolveCheckpointParams(care)).toMatchObject({
      monitor: 'val_loss',
      save_top_k: 3,
      every_n_epochs: 1,
    });
  });

  it('resolves user optimizer and scheduler parameters over the defaults', () => {
    expect(resolveOptimizer({ name: 'AdamW', parameters: { lr: 4e-4 } })).toMatchObject({
      lr: 4e-4,
      weight_decay: 1e-2,
    });
    expect(resolveOptimizer({ name: 'SGD', parameters: { lr: 0.1, momentum: 0.9 } })).toMatchObject({
      lr: 0.1,
      momentum: 0.9,
      nesterov: false,
    });
    expect(resolveLrScheduler({ name: 'StepLR', parameters: { step_size: 5 } })).toEqual({
      name: 'StepLR',
      step_size: 5,
      gamma: 0.1,
    });
  });
});

describe('createN2VConfig', () => {
  const config = createN2VConfig(base);

  it('matches create_n2v_config defaults field by field', () => {
    expect(config.version).toBe('0.3.0');
    expect(config.experiment_name).toBe('exp');
    const alg = config.algorithm_config;
    if (alg.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(alg.loss).toBe('n2v');
    expect(alg.model).toEqual(DEFAULT_UNET);
    expect(alg.optimizer).toEqual({ name: 'Adam', parameters: {} });
    expect(alg.lr_scheduler).toEqual({ name: 'ReduceLROnPlateau', parameters: {} });
    expect(alg.monitor_metric).toBe('val_loss');
    expect(alg.n2v_config).toEqual({
      name: 'N2VManipulate',
      roi_size: 11,
      masked_pixel_percentage: 0.2,
      strategy: 'uniform',
      struct_mask: null,
      seed: 7,
    });
    const d = config.data_config;
    expect(d.mode).toBe('training');
    expect(d.data_type).toBe('tiff');
    expect(d.axes).toBe('SYX');
    expect(d.target_axes).toBeNull();
    expect(d.patching).toEqual({ name: 'stratified', patch_size: [64, 64], seed: 7 });
    expect(d.normalization.name).toBe('mean_std');
    expect(d.batch_size).toBe(16);
    expect(d.in_memory).toBe(true);
    expect(d.n_val_patches).toBe(8);
    expect(d.channels).toBeNull();
    expect(d.augmentations).toEqual([
      { name: 'XYFlip', flip_x: true, flip_y: true, p: 0.5, seed: 7 },
      { name: 'XYRandomRotate90', p: 0.5, seed: 7 },
    ]);
    expect(d.train_dataloader_params).toEqual({ shuffle: true });
    expect(d.seed).toBe(7);
    expect(config.training_config).toEqual({
      trainer_params: { max_epochs: 30 },
      logger: null,
      checkpoint_params: {
        every_n_epochs: 10,
        save_top_k: -1,
        save_last: true,
        auto_insert_metric_name: false,
      },
      early_stopping_params: null,
    });
  });

  it('switches N2V2 to the median strategy', () => {
    const alg = createN2VConfig({ ...base, useN2V2: true }).algorithm_config;
    if (alg.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(alg.model.n2v2).toBe(true);
    expect(alg.n2v_config.strategy).toBe('median');
  });

  it('sets the structN2V mask and turns augmentations off', () => {
    const c = createN2VConfig({ ...base, structN2VAxis: 'horizontal', structN2VSpan: 7 });
    const alg = c.algorithm_config;
    if (alg.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(alg.n2v_config.struct_mask).toEqual({ axes: 'horizontal', span: 7 });
    expect(c.data_config.augmentations).toEqual([]);
    const s = createStructN2VConfig({ ...base, structN2VAxis: 'vertical' });
    expect(s.data_config.augmentations).toEqual([]);
    if (s.algorithm_config.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(s.algorithm_config.n2v_config.struct_mask).toEqual({ axes: 'vertical', span: 5 });
  });

  it('passes channels, epochs, steps, masking and augmentations through', () => {
    const c = createN2VConfig({
      ...base,
      axes: 'SCYX',
      nChannels: 3,
      independentChannels: false,
      numEpochs: 5,
      numSteps: 100,
      roiSize: 5,
      maskedPixelPercentage: 1,
      augmentations: ['x_flip'],
      modelParams: { depth: 3 },
      patchFilterConfig: { name: 'max', threshold: 0.4 },
    });
    const alg = c.algorithm_config;
    if (alg.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(alg.model).toMatchObject({
      in_channels: 3,
      num_classes: 3,
      independent_channels: false,
      depth: 3,
    });
    expect(alg.n2v_config).toMatchObject({ roi_size: 5, masked_pixel_percentage: 1 });
    expect(c.data_config.augmentations).toEqual([
      { name: 'XYFlip', flip_x: true, flip_y: false, p: 0.5, seed: 7 },
    ]);
    expect(c.training_config.trainer_params).toEqual({ max_epochs: 5, limit_train_batches: 100 });
    expect(c.data_config.patch_filter).toEqual({
      name: 'max',
      ref_channel: 0,
      filtered_patch_prob: 0.1,
      threshold: 0.4,
      coverage: 0.25,
    });
  });

  it('makes a 3D model for Z axes', () => {
    const c = createN2VConfig({ ...base, axes: 'ZYX', patchSize: [16, 64, 64] });
    expect(c.algorithm_config.model.conv_dims).toBe(3);
    expect(c.data_config.mask_filter?.coverage).toBe(0.125);
  });

  it('draws a random seed when none is given', () => {
    const { seed: _, ...noSeed } = base;
    const c = createN2VConfig(noSeed);
    expect(Number.isInteger(c.data_config.seed) && c.data_config.seed > 0).toBe(true);
    if (c.algorithm_config.algorithm !== 'n2v') throw new Error('expected n2v');
    expect(c.algorithm_config.n2v_config.seed).toBe(c.data_config.seed);
  });
});

describe('createCareConfig and createN2NConfig', () => {
  it('matches create_care_config defaults field by field', () => {
    const c = createCareConfig(base);
    expect(c.algorithm_config.algorithm).toBe('care');
    expect(c.algorithm_config.loss).toBe('mae');
    expect(c.algorithm_config.model).toEqual({ ...DEFAULT_UNET, independent_channels: false });
    expect(c.algorithm_config.optimizer).toEqual({ name: 'Adam', parameters: {} });
    expect(c.algorithm_config.lr_scheduler).toEqual({ name: 'ReduceLROnPlateau', parameters: {} });
    expect(c.data_config.target_axes).toBe('SYX');
    expect(c.data_config.patching).toEqual({ name: 'stratified', patch_size: [64, 64], seed: 7 });
    expect(c.data_config.augmentations).toHaveLength(2);
    expect(c.data_config.n_val_patches).toBe(8);
    expect(c.training_config).toEqual({
      trainer_params: { max_epochs: 30 },
      logger: null,
      checkpoint_params: {
        monitor: 'val_loss',
        mode: 'min',
        save_top_k: 3,
        save_last: true,
        auto_insert_metric_name: false,
      },
      early_stopping_params: { monitor: 'val_loss', mode: 'min' },
    });
  });

  it('matches create_n2n_config defaults field by field', () => {
    const c = createN2NConfig(base);
    expect(c.algorithm_config.algorithm).toBe('n2n');
    expect(c.algorithm_config.loss).toBe('mae');
    expect(c.algorithm_config.model).toEqual(DEFAULT_UNET);
    expect(c.data_config.target_axes).toBe('SYX');
    expect(c.training_config).toEqual({
      trainer_params: { max_epochs: 30 },
      logger: null,
      checkpoint_params: {
        every_n_epochs: 10,
        save_top_k: -1,
        save_last: true,
        auto_insert_metric_name: false,
      },
      early_stopping_params: null,
    });
  });

  it('defaults output channels to the input channels when the targets have C, else 1', () => {
    const withC = createCareConfig({ ...base, axes: 'SCYX', nChannelsIn: 2 });
    expect(withC.algorithm_config.model).toMatchObject({ in_channels: 2, num_classes: 2 });
    const noC = createCareConfig({ ...base, axes: 'SCYX', targetAxes: 'SYX', nChannelsIn: 2 });
    expect(noC.algorithm_config.model).toMatchObject({ in_channels: 2, num_classes: 1 });
  });
});
