import type { AlgorithmName } from './algorithm.js';
import { type Configuration, parseConfiguration } from './configuration.js';
import type { DataType, PatchFilterConfigInput } from './data.js';
import { ConfigError } from './errors.js';
import type { StructMaskAxes } from './n2vManipulate.js';
import { gaussianMixtureFromSigma, type NoiseModelConfigInput } from './noiseModel.js';
import type { LrSchedulerName, OptimizerName } from './optimizer.js';
import { generateRandomSeed } from './random.js';
import { defaultTrainingConfig } from './training.js';

/**
 * Factories for the common cases, mirroring CAREamics' `create_n2v_config` / `create_advanced_n2v_config`,
 * `create_structn2v_config`, `create_care_config` and `create_n2n_config` (`config/factories/`), with camelCase
 * arguments. They return a validated `Configuration`; pass it to `configurationWarnings` for advice such as small
 * batches with batch norm.
 */

/** Number of epochs the factories train for, as CAREamics'. */
export const DEFAULT_NUM_EPOCHS = 30;

export type AugmentationName = 'x_flip' | 'y_flip' | 'rotate_90';

/** Arguments shared by every factory. */
export interface CommonConfigOptions {
  experimentName: string;
  dataType: DataType;
  axes: string;
  /** YX or ZYX, square in YX, divisible by 2**depth. */
  patchSize: readonly number[];
  batchSize: number;
  /** Default 30. */
  numEpochs?: number;
  /** Batches per epoch (Lightning's `limit_train_batches`); default all. */
  numSteps?: number;
  /** Default: flips in X and Y and 90° rotations; `[]` for none. */
  augmentations?: readonly AugmentationName[];
  /** Default 8. */
  nValPatches?: number;
  inMemory?: boolean;
  /** Channels to select from the C axis. */
  channels?: readonly number[];
  normalization?: 'mean_std' | 'min_max' | 'quantile' | 'none';
  /** Extra fields of the normalization config (e.g. `input_means`, `per_channel`). */
  normalizationParams?: Record<string, unknown>;
  patchFilterConfig?: PatchFilterConfigInput;
  numWorkers?: number;
  /** Extra Lightning Trainer arguments; `numEpochs` and `numSteps` take precedence. */
  trainerParams?: Record<string, unknown>;
  /** Extra UNet fields (depth, num_channels_init, ...); the channel and N2V2 arguments take precedence. */
  modelParams?: Record<string, unknown>;
  optimizer?: OptimizerName;
  optimizerParams?: Record<string, unknown>;
  lrScheduler?: LrSchedulerName;
  lrSchedulerParams?: Record<string, unknown>;
  trainDataloaderParams?: Record<string, unknown>;
  valDataloaderParams?: Record<string, unknown>;
  /** ModelCheckpoint arguments replacing the algorithm's preset. */
  checkpointParams?: Record<string, unknown>;
  logger?: 'wandb' | 'tensorboard' | 'none';
  /** Seed of patching, augmentation and masking; random when missing. */
  seed?: number;
}

export interface N2VConfigOptions extends CommonConfigOptions {
  /** Channels in the data (needed when axes have C and `channels` is not given). */
  nChannels?: number;
  /** Default true. */
  independentChannels?: boolean;
  /** N2V2: median replacement, blur-pool, no top skip connection. */
  useN2V2?: boolean;
  /** Default 11. */
  roiSize?: number;
  /** Percent of masked pixels, default 0.2 (%). */
  maskedPixelPercentage?: number;
  /** structN2V mask; default 'none'. With a mask and no `augmentations`, augmentations are off. */
  structN2VAxis?: StructMaskAxes | 'none';
  /** Default 5. */
  structN2VSpan?: number;
  monitorMetric?: 'train_loss' | 'train_loss_epoch' | 'val_loss';
}

export interface PN2VConfigOptions extends Omit<N2VConfigOptions, 'independentChannels'> {
  /**
   * The noise model: a GaussianMixtureNoiseModel (`path` to a CAREamics .npz) or a GaussianNoiseModel (`sigma`).
   * Give it or `noiseSigma`.
   */
  noiseModel?: NoiseModelConfigInput;
  /**
   * Known Gaussian noise of this standard deviation (raw units), in place of `noiseModel`: a GaussianNoiseModel
   * (Gaussian prior), or with `numSamples` the same Gaussian as a one-component GaussianMixtureNoiseModel
   * (samples prior; `gaussianMixtureFromSigma`).
   */
  noiseSigma?: number;
  /**
   * Samples of the clean signal per channel, with a GaussianMixtureNoiseModel (default 100; PN2V's paper used
   * 800). A GaussianNoiseModel's prior is a Gaussian (mean and log-variance) and takes no samples.
   */
  numSamples?: number;
}

export interface SupervisedConfigOptions extends CommonConfigOptions {
  nChannelsIn?: number;
  /** Default: `nChannelsIn` when target axes have C, else 1. */
  nChannelsOut?: number;
  /** Axes of the targets; default `axes`. */
  targetAxes?: string;
  /** Default false for CARE, true for N2N. */
  independentChannels?: boolean;
}

export interface CareConfigOptions extends SupervisedConfigOptions {
  /** EarlyStopping arguments; default `{monitor: 'val_loss', mode: 'min'}`. */
  earlyStoppingParams?: Record<string, unknown>;
}

/** CAREamics' `validate_input_channels`, with the factory argument names as paths. */
function checkInputChannels(
  axes: string,
  channels: readonly number[] | undefined,
  n: number | undefined,
  name: string,
) {
  const issues: { path: string; message: string }[] = [];
  const hasC = axes.includes('C');
  if (channels !== undefined && channels.length === 0)
    issues.push({ path: 'channels', message: 'must not be empty' });
  if (channels !== undefined && !hasC)
    issues.push({ path: 'channels', message: `needs C in axes "${axes}"` });
  if (hasC && n === undefined && channels === undefined)
    issues.push({ path: name, message: `${name} or channels is required when axes "${axes}" have C` });
  if (!hasC && n !== undefined && n > 1)
    issues.push({ path: name, message: `must be 1 when axes "${axes}" have no C, got ${n}` });
  if (n !== undefined && channels !== undefined && n !== channels.length)
    issues.push({
      path: name,
      message: `${n} does not match the ${channels.length} selected channels; give only channels`,
    });
  if (issues.length > 0) throw new ConfigError(issues);
  return n ?? channels?.length ?? 1;
}

function assembleAugmentations(names: readonly AugmentationName[] | undefined, seed: number) {
  if (names === undefined) return undefined;
  const out: Record<string, unknown>[] = [];
  const flipX = names.includes('x_flip');
  const flipY = names.includes('y_flip');
  if (flipX || flipY) out.push({ name: 'XYFlip', flip_x: flipX, flip_y: flipY, seed });
  if (names.includes('rotate_90')) out.push({ name: 'XYRandomRotate90', seed });
  return out;
}

function dataConfig(
  o: CommonConfigOptions,
  seed: number,
  augmentations: readonly AugmentationName[] | undefined,
  targetAxes?: string,
) {
  return {
    mode: 'training',
    data_type: o.dataType,
    axes: o.axes,
    target_axes: targetAxes ?? null,
    patching: { name: 'stratified', patch_size: [...o.patchSize] },
    normalization: { name: o.normalization ?? 'mean_std', ...(o.normalizationParams ?? {}) },
    batch_size: o.batchSize,
    ...(o.inMemory !== undefined && { in_memory: o.inMemory }),
    n_val_patches: o.nValPatches ?? 8,
    channels: o.channels === undefined ? null : [...o.channels],
    patch_filter: o.patchFilterConfig ?? null,
    ...(augmentations !== undefined && { augmentations: assembleAugmentations(augmentations, seed) }),
    train_dataloader_params: { shuffle: true, ...(o.trainDataloaderParams ?? {}) },
    ...(o.valDataloaderParams !== undefined && { val_dataloader_params: o.valDataloaderParams }),
    ...(o.numWorkers !== undefined && { num_workers: o.numWorkers }),
    seed,
  };
}

function algorithmConfig(
  o: CommonConfigOptions,
  algorithm: AlgorithmName,
  loss: string,
  model: { in: number; out: number; independent: boolean; n2v2: boolean; is3D: boolean },
) {
  return {
    algorithm,
    loss,
    model: {
      architecture: 'UNet',
      ...(o.modelParams ?? {}),
      n2v2: model.n2v2,
      conv_dims: model.is3D ? 3 : 2,
      in_channels: model.in,
      num_classes: model.out,
      independent_channels: model.independent,
    },
    optimizer: { name: o.optimizer ?? 'Adam', parameters: { ...(o.optimizerParams ?? {}) } },
    lr_scheduler: {
      name: o.lrScheduler ?? 'ReduceLROnPlateau',
      parameters: { ...(o.lrSchedulerParams ?? {}) },
    },
  };
}

function trainerParams(o: CommonConfigOptions): Record<string, unknown> {
  return {
    ...(o.trainerParams ?? {}),
    max_epochs: o.numEpochs ?? DEFAULT_NUM_EPOCHS,
    ...(o.numSteps !== undefined && { limit_train_batches: o.numSteps }),
  };
}

const is3D = (o: CommonConfigOptions) => (o.dataType === 'czi' ? /[ZT]/.test(o.axes) : o.axes.includes('Z'));

/** A Noise2Void configuration (N2V, N2V2 with `useN2V2`, structN2V with `structN2VAxis`). */
export function createN2VConfig(o: N2VConfigOptions): Configuration {
  return parseConfiguration(n2vConfigInput(o, 'n2v')).config;
}

/** Samples per channel `createPN2VConfig` gives a mixture noise model's prior. */
export const DEFAULT_PN2V_SAMPLES = 100;

/**
 * A Probabilistic Noise2Void configuration: N2V's masking (N2V2, structN2V as in `createN2VConfig`) and a noise
 * model. With a GaussianNoiseModel the network predicts a Gaussian prior (num_classes = 2 per channel), with a
 * GaussianMixtureNoiseModel `numSamples` samples per channel. Channels are independent.
 */
export function createPN2VConfig(o: PN2VConfigOptions): Configuration {
  const noiseModel = pn2vNoiseModel(o);
  const gaussian = noiseModel.model_type === 'GaussianNoiseModel';
  if (gaussian && o.numSamples !== undefined)
    throw new ConfigError([
      {
        path: 'numSamples',
        message: 'a GaussianNoiseModel has a Gaussian prior, not samples; leave it out (or give noiseSigma)',
      },
    ]);
  const input = n2vConfigInput(o, 'pn2v');
  const perChannel = gaussian ? 2 : (o.numSamples ?? DEFAULT_PN2V_SAMPLES);
  const model = input.algorithm_config.model;
  return parseConfiguration({
    ...input,
    algorithm_config: {
      ...input.algorithm_config,
      model: { ...model, num_classes: perChannel * model.in_channels, independent_channels: true },
      noise_model: noiseModel,
    },
  }).config;
}

/** `noiseModel`, or `noiseSigma` as a Gaussian (Gaussian prior) or, with `numSamples`, a one-Gaussian mixture. */
function pn2vNoiseModel(o: PN2VConfigOptions): NoiseModelConfigInput {
  if ((o.noiseModel === undefined) === (o.noiseSigma === undefined))
    throw new ConfigError([
      {
        path: 'noiseModel',
        message: 'pn2v needs one noise model: give noiseModel or noiseSigma (known Gaussian noise), not both',
      },
    ]);
  if (o.noiseModel !== undefined) return o.noiseModel;
  const sigma = o.noiseSigma!;
  return o.numSamples === undefined
    ? { model_type: 'GaussianNoiseModel', sigma }
    : gaussianMixtureFromSigma(sigma);
}

function n2vConfigInput(o: N2VConfigOptions, name: 'n2v' | 'pn2v') {
  const seed = o.seed ?? generateRandomSeed();
  const n = checkInputChannels(o.axes, o.channels, o.nChannels, 'nChannels');
  const structAxis = o.structN2VAxis ?? 'none';
  const augmentations = o.augmentations ?? (structAxis === 'none' ? undefined : []);
  const useN2V2 = o.useN2V2 ?? false;
  const algorithm = {
    ...algorithmConfig(o, name, name, {
      in: n,
      out: n,
      independent: o.independentChannels ?? true,
      n2v2: useN2V2,
      is3D: is3D(o),
    }),
    monitor_metric: o.monitorMetric ?? 'val_loss',
    n2v_config: {
      name: 'N2VManipulate',
      roi_size: o.roiSize ?? 11,
      masked_pixel_percentage: o.maskedPixelPercentage ?? 0.2,
      strategy: useN2V2 ? 'median' : 'uniform',
      struct_mask: structAxis === 'none' ? null : { axes: structAxis, span: o.structN2VSpan ?? 5 },
      seed,
    },
  };
  return {
    version: '0.3.0',
    experiment_name: o.experimentName,
    algorithm_config: algorithm,
    data_config: dataConfig(o, seed, augmentations),
    training_config: defaultTrainingConfig(name, {
      trainerParams: trainerParams(o),
      logger: o.logger,
      checkpointParams: o.checkpointParams,
    }),
  };
}

/** CAREamics' `create_structn2v_config`: structN2V with augmentations off (the mask is not rotation invariant). */
export function createStructN2VConfig(
  o: Omit<N2VConfigOptions, 'structN2VAxis' | 'augmentations'> & { structN2VAxis: StructMaskAxes },
): Configuration {
  return createN2VConfig({ ...o, augmentations: [] });
}

function createSupervisedConfig(
  algorithm: 'care' | 'n2n',
  o: SupervisedConfigOptions & { earlyStoppingParams?: Record<string, unknown> },
): Configuration {
  const seed = o.seed ?? generateRandomSeed();
  const nIn = checkInputChannels(o.axes, o.channels, o.nChannelsIn, 'nChannelsIn');
  const targetAxes = o.targetAxes ?? o.axes;
  const targetHasC = targetAxes.includes('C');
  const nOut = o.nChannelsOut ?? (targetHasC ? nIn : 1);
  if (!targetHasC && nOut > 1)
    throw new ConfigError([
      {
        path: 'nChannelsOut',
        message: `must be 1 when target axes "${targetAxes}" have no C, got ${nOut}; give targetAxes with C`,
      },
    ]);
  return parseConfiguration({
    version: '0.3.0',
    experiment_name: o.experimentName,
    algorithm_config: algorithmConfig(o, algorithm, 'mae', {
      in: nIn,
      out: nOut,
      independent: o.independentChannels ?? algorithm === 'n2n',
      n2v2: false,
      is3D: is3D(o),
    }),
    data_config: dataConfig(o, seed, o.augmentations, targetAxes),
    training_config: defaultTrainingConfig(algorithm, {
      trainerParams: trainerParams(o),
      logger: o.logger,
      checkpointParams: o.checkpointParams,
      earlyStoppingParams: o.earlyStoppingParams,
      monitorMetric: 'val_loss',
    }),
  }).config;
}

/** A CARE configuration (supervised restoration; loss mae, dependent channels, early stopping). */
export function createCareConfig(o: CareConfigOptions): Configuration {
  return createSupervisedConfig('care', o);
}

/** A Noise2Noise configuration (loss mae, independent channels). */
export function createN2NConfig(o: SupervisedConfigOptions): Configuration {
  return createSupervisedConfig('n2n', o);
}
