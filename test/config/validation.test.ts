import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configurationIssues,
  createCareConfig,
  createN2VConfig,
  parseConfiguration,
} from '../../src/config/index.js';
import { isCareamicsError } from '../../src/errors.js';
import { expectIssue, minimal } from './helpers.js';

const parse = (input: unknown) => () => parseConfiguration(input);

function withData(patch: Record<string, unknown>, algorithm: 'n2v' | 'care' | 'n2n' = 'n2v') {
  const c = minimal(algorithm);
  c.data_config = { ...c.data_config, ...patch };
  return c;
}

function withModel(model: Record<string, unknown>, algorithm: 'n2v' | 'care' | 'n2n' = 'n2v') {
  const c = minimal(algorithm);
  c.algorithm_config = { ...c.algorithm_config, model };
  return c;
}

describe('ConfigError', () => {
  it('is a CareamicsError with the issues listed', () => {
    const err = expectIssue(parse(withData({ batch_size: 0 })), 'data_config.batch_size');
    expect(isCareamicsError(err, 'ConfigError')).toBe(true);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.issues.length).toBeGreaterThan(0);
  });

  it('lists every issue, and configurationIssues returns them without throwing', () => {
    const input = withData({ batch_size: 'x', axes: 'YXQ' });
    const issues = configurationIssues(input);
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['data_config.batch_size']));
    expect(configurationIssues(minimal())).toEqual([]);
  });
});

describe('cross-checks', () => {
  it('3D data needs conv_dims 3', () => {
    expectIssue(
      parse(withData({ axes: 'ZYX', patching: { name: 'stratified', patch_size: [16, 64, 64] } })),
      'algorithm_config.model.conv_dims',
      /must be 3 for 3D data/,
    );
  });

  it('conv_dims 3 needs 3D data', () => {
    expectIssue(
      parse(withModel({ conv_dims: 3 })),
      'algorithm_config.model.conv_dims',
      /must be 2 for 2D data/,
    );
  });

  it('the patch must be divisible by 2**depth', () => {
    const err = expectIssue(
      parse(withData({ patching: { name: 'stratified', patch_size: [66, 66] } })),
      'data_config.patching.patch_size',
    );
    expect(err.message).toBe(
      'data_config.patching.patch_size: must be divisible by 2**depth=4, got [66, 66]',
    );
    const deep = withModel({ depth: 3 });
    deep.data_config.patching = { name: 'stratified', patch_size: [36, 36] };
    expectIssue(parse(deep), 'data_config.patching.patch_size', /2\*\*depth=8, got \[36, 36\]/);
  });

  it('the patch must be square in YX and match the axes dimensions', () => {
    expectIssue(
      parse(withData({ patching: { name: 'stratified', patch_size: [64, 32] } })),
      'data_config.patching.patch_size',
      /square/,
    );
    expectIssue(
      parse(withData({ patching: { name: 'stratified', patch_size: [16, 64, 64] } })),
      'data_config.patching.patch_size',
      /must have 2 dimensions/,
    );
  });

  it('selected channels must match in_channels', () => {
    const c = withData({ axes: 'CYX', channels: [0, 1] });
    expectIssue(
      parse(c),
      'data_config.channels',
      /selects 2 channel\(s\) but algorithm_config.model.in_channels is 1/,
    );
  });

  it('channels need C in axes', () => {
    expectIssue(parse(withData({ channels: [0] })), 'data_config.channels', /C is not in axes/);
  });

  it('without C in axes the model takes one channel', () => {
    expectIssue(
      parse(withModel({ in_channels: 2, num_classes: 2 })),
      'algorithm_config.model.in_channels',
      /must be 1/,
    );
  });

  it('normalization statistics need one value per channel', () => {
    const c = withData({ normalization: { name: 'mean_std', input_means: [1, 2], input_stds: [1, 2] } });
    expectIssue(
      parse(c),
      'data_config.normalization.input_means',
      /one value per input channel \(1\), got 2/,
    );
    const t = withData(
      { normalization: { name: 'min_max', target_mins: [0, 0], target_maxes: [1, 1] } },
      'care',
    );
    expectIssue(parse(t), 'data_config.normalization.target_mins', /output channel/);
  });

  it('normalization statistics come in pairs of equal length', () => {
    expectIssue(
      parse(withData({ normalization: { name: 'mean_std', input_means: [1] } })),
      'data_config.normalization.input_stds',
      /both given or both null/,
    );
    expectIssue(
      parse(withData({ normalization: { name: 'min_max', input_mins: [2], input_maxes: [1] } })),
      'data_config.normalization.input_mins[0]',
      /less than/,
    );
  });

  it('N2V2 requires the median strategy, and median requires N2V2', () => {
    const n2v2 = withModel({ n2v2: true });
    expectIssue(parse(n2v2), 'algorithm_config.n2v_config.strategy', /requires strategy "median"/);
    const median = minimal();
    median.algorithm_config.n2v_config = { strategy: 'median' };
    expectIssue(parse(median), 'algorithm_config.n2v_config.strategy', /requires strategy "uniform"/);
    n2v2.algorithm_config.n2v_config = { strategy: 'median' };
    expect(() => parseConfiguration(n2v2)).not.toThrow();
  });

  it('CARE and N2N reject n2v2 and independent channels with mismatched channel counts', () => {
    expectIssue(parse(withModel({ n2v2: true }, 'care')), 'algorithm_config.model.n2v2');
    const c = withModel({ in_channels: 2, num_classes: 1, independent_channels: true }, 'n2n');
    c.data_config.axes = 'CYX';
    expectIssue(parse(c), 'algorithm_config.model.independent_channels', /cannot be independent/);
  });

  it('N2V needs equal in and out channels and no final activation', () => {
    const c = withModel({ in_channels: 2, num_classes: 1 });
    c.data_config.axes = 'CYX';
    expectIssue(parse(c), 'algorithm_config.model.num_classes');
    expectIssue(parse(withModel({ final_activation: 'Sigmoid' })), 'algorithm_config.model.final_activation');
  });

  it('N2V rejects target axes, too few masked pixels, and val_loss without validation', () => {
    expectIssue(parse(withData({ target_axes: 'YX' })), 'data_config.target_axes', /must be null for N2V/);
    const tiny = withData({ patching: { name: 'stratified', patch_size: [8, 8] } });
    tiny.algorithm_config.n2v_config = { masked_pixel_percentage: 0.2 };
    expectIssue(parse(tiny), 'algorithm_config.n2v_config.masked_pixel_percentage', /less than one pixel/);
    expectIssue(parse(withData({ n_val_patches: 0 })), 'algorithm_config.monitor_metric', /train_loss/);
  });

  it('validates axes', () => {
    expectIssue(parse(withData({ axes: 'YQX' })), 'data_config.axes', /invalid axes/);
    expectIssue(
      parse(withData({ axes: 'YZX' })),
      'data_config.axes',
      /Y and X must both be present and adjacent/,
    );
    expectIssue(parse(withData({ axes: 'SSYX' })), 'data_config.axes', /duplicate axis S/);
    expectIssue(
      parse(withData({ data_type: 'czi', axes: 'CSYX', in_memory: false })),
      'data_config.axes',
      /for CZI/,
    );
    expectIssue(
      parse(withData({ target_axes: 'ZYX' }, 'care')),
      'data_config.target_axes',
      /spatial dimensions/,
    );
  });

  it('validates in_memory against the data type', () => {
    expectIssue(
      parse(withData({ in_memory: false })),
      'data_config.in_memory',
      /must be true for data_type "array"/,
    );
    expectIssue(
      parse(withData({ data_type: 'zarr', in_memory: true })),
      'data_config.in_memory',
      /not supported/,
    );
  });

  it('validates the patching strategy against the mode', () => {
    expectIssue(
      parse(withData({ patching: { name: 'tiled', patch_size: [64, 64], overlaps: [16, 16] } })),
      'data_config.patching.name',
      /not allowed in mode "training"/,
    );
  });

  it('validates optimizer and scheduler parameters', () => {
    const c = minimal();
    c.algorithm_config.optimizer = { name: 'Adam', parameters: { learning_rate: 1e-3 } };
    expectIssue(
      parse(c),
      'algorithm_config.optimizer.parameters.learning_rate',
      /unknown parameter for Adam/,
    );
    c.algorithm_config.optimizer = { name: 'SGD', parameters: {} };
    expectIssue(parse(c), 'algorithm_config.optimizer.parameters.lr', /SGD requires/);
    c.algorithm_config.optimizer = { name: 'Adam', parameters: { lr: 'fast' } };
    expectIssue(parse(c), 'algorithm_config.optimizer.parameters.lr', /expected a number/);
    c.algorithm_config.optimizer = {};
    c.algorithm_config.lr_scheduler = { name: 'StepLR' };
    expectIssue(parse(c), 'algorithm_config.lr_scheduler.parameters.step_size', /StepLR requires/);
  });

  it('validates training parameters', () => {
    const c = minimal();
    c.training_config = { trainer_params: { max_epoch: 3 } };
    expectIssue(parse(c), 'training_config.trainer_params.max_epoch', /unknown parameter/);
    c.training_config = { trainer_params: { max_epochs: 2.5 } };
    expectIssue(parse(c), 'training_config.trainer_params.max_epochs', /integer/);
    c.training_config = { early_stopping_params: { patience: 3 } };
    expectIssue(parse(c), 'training_config.early_stopping_params.monitor', /required/);
    c.training_config = { logger: 'mlflow' };
    expectIssue(parse(c), 'training_config.logger');
  });

  it('validates the experiment name', () => {
    expectIssue(parse({ ...minimal(), experiment_name: '  ' }), 'experiment_name', /empty/);
    expectIssue(parse({ ...minimal(), experiment_name: 'a/b' }), 'experiment_name', /letters, digits/);
  });
});

describe('type errors', () => {
  it('name the field', () => {
    expectIssue(parse(withData({ batch_size: '16' })), 'data_config.batch_size', /expected number/);
    expectIssue(parse(withModel({ depth: 11 })), 'algorithm_config.model.depth');
    expectIssue(
      parse(withModel({ num_channels_init: 33 })),
      'algorithm_config.model.num_channels_init',
      /even/,
    );
    expectIssue(
      parse(withModel({ use_batch_norm: 'yes' })),
      'algorithm_config.model.use_batch_norm',
      /expected boolean/,
    );
    expectIssue(parse(withData({ data_type: 'hdf5' })), 'data_config.data_type');
    const roi = minimal();
    roi.algorithm_config.n2v_config = { roi_size: 10 };
    expectIssue(parse(roi), 'algorithm_config.n2v_config.roi_size', /odd/);
    const span = minimal();
    span.algorithm_config.n2v_config = { struct_mask: { axes: 'diagonal' } };
    expectIssue(parse(span), 'algorithm_config.n2v_config.struct_mask.axes');
    expectIssue(parse({ ...minimal(), data_config: undefined }), 'data_config');
  });

  it('reject unknown keys where CAREamics forbids them', () => {
    expectIssue(parse(withModel({ depht: 3 })), 'algorithm_config.model', /depht/);
  });

  it('report an unknown algorithm clearly', () => {
    const c = minimal();
    c.algorithm_config.algorithm = 'hdn';
    const err = expectIssue(parse(c), 'algorithm_config.algorithm');
    expect(err.message).toContain('unknown algorithm "hdn"; expected one of "n2v", "pn2v", "care", "n2n"');
  });
});

describe('warnings', () => {
  it('warns, without failing, when batch norm meets a batch smaller than 8', () => {
    const { warnings } = parseConfiguration(withData({ batch_size: 4 }));
    expect(warnings).toEqual([
      expect.stringMatching(/^data_config.batch_size: batch normalization with batch size 4/),
    ]);
    expect(parseConfiguration(withData({ batch_size: 8 })).warnings).toEqual([]);
    const noBn = withData({ batch_size: 4 });
    noBn.algorithm_config.model = { use_batch_norm: false };
    expect(parseConfiguration(noBn).warnings).toEqual([]);
  });

  it('warns about ignored unknown fields and unshuffled training', () => {
    const c = withData({ colour: 'blue', train_dataloader_params: { shuffle: false } });
    expect(parseConfiguration(c).warnings).toEqual([
      'data_config.colour: unknown field, ignored',
      'data_config.train_dataloader_params.shuffle: false may lower the quality of results',
    ]);
  });
});

describe('factory argument checks', () => {
  const base = { experimentName: 'e', dataType: 'array', patchSize: [64, 64], batchSize: 8 } as const;

  it('needs a channel count when axes have C', () => {
    expectIssue(() => createN2VConfig({ ...base, axes: 'CYX' }), 'nChannels', /required/);
    expectIssue(() => createN2VConfig({ ...base, axes: 'YX', nChannels: 2 }), 'nChannels', /must be 1/);
    expectIssue(
      () => createN2VConfig({ ...base, axes: 'CYX', nChannels: 2, channels: [0] }),
      'nChannels',
      /does not match/,
    );
    expectIssue(
      () => createCareConfig({ ...base, axes: 'CYX', nChannelsIn: 2, nChannelsOut: 2, targetAxes: 'YX' }),
      'nChannelsOut',
    );
  });

  it('reports schema issues with CAREamics field paths', () => {
    expectIssue(
      () => createN2VConfig({ ...base, axes: 'YX', patchSize: [62, 62] }),
      'data_config.patching.patch_size',
    );
    expectIssue(
      () => createN2VConfig({ ...base, axes: 'YX', roiSize: 4 }),
      'algorithm_config.n2v_config.roi_size',
    );
  });
});
