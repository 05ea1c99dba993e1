/**
 * The training and validation sets of one run: images held in memory, normalization statistics, the patch
 * plans, and batches ready for the engine (normalized, augmented, N2V-masked).
 */
import { type Configuration, isSelfSupervised, isSupervised, predictionChannels } from '../config/index.js';
import {
  augmentBatch,
  checkPatchFits,
  createStatsAccumulator,
  DataError,
  epochPatchSpecs,
  extractPatchBatch,
  type ImageArray,
  isTrainingPatching,
  type NormalizationStats,
  n2vManipulate,
  normalize,
  type Patching,
  type PatchSpec,
  type Rng,
  StratifiedPatching,
  TRAINING_PATCHING,
} from '../data/index.js';
import type { ImageSource, NDArray, TypedArray } from '../io/types.js';

export interface TrainingData {
  trainSource: ImageSource[];
  trainTarget?: ImageSource[];
  valSource?: ImageSource[];
  valTarget?: ImageSource[];
}

export interface Statistics {
  input: NormalizationStats;
  target?: NormalizationStats;
}

/** A batch as the engine takes it: input (B, C, …), target and, for N2V, the mask (B, C_out, …). */
export interface PreparedBatch {
  input: Float32Array;
  target: Float32Array;
  mask?: Float32Array;
  shape: number[];
}

/** Reads every source after checking its axes and size; refuses images with NaN or infinite pixels. */
async function loadAll(
  sources: readonly ImageSource[],
  axes: string,
  patchSize: readonly number[],
  role: string,
  signal?: AbortSignal,
) {
  const images: ImageArray[] = [];
  for (const source of sources) {
    if (source.axes !== axes) {
      throw new DataError('AxesMismatch', `${role} has axes ${source.axes}, the configuration says ${axes}`, {
        file: source.name,
      });
    }
    checkPatchFits(source, patchSize);
    const { data, shape } = await source.read(undefined, { signal });
    const bad = countNonFinite(data);
    if (bad > 0) {
      throw new DataError(
        'NonFinitePixels',
        `${bad} of ${data.length} pixels are NaN or infinite; remove or replace them before training`,
        { file: source.name },
      );
    }
    images.push({ name: source.name, axes: source.axes, shape, data });
  }
  return images;
}

function countNonFinite(data: TypedArray): number {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return 0;
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
  return bad;
}

/** Batch layout of (B, C, [Z,] Y, X) for the normalization functions. */
const batchAxes = (spatialRank: number) => (spatialRank === 3 ? 'SCZYX' : 'SCYX');

/** Per-channel statistics of the images; a channel without variation cannot be mean/std normalized. */
function computeStats(
  images: readonly ImageArray[],
  name: NormalizationStats['name'],
  channels: number,
  role: string,
) {
  const accumulator = createStatsAccumulator(name, channels);
  for (const image of images) accumulator.update({ data: image.data, shape: [...image.shape] }, image.axes);
  const stats = accumulator.finalize();
  if (stats.name === 'mean_std') {
    // Below float32 resolution the values are one value: dividing by that std turns noise into ±1e6.
    const channel = stats.stds.findIndex((std, ch) => std <= Math.abs(stats.means[ch]) * 1e-7);
    if (channel >= 0) {
      throw new DataError(
        'ZeroVariance',
        `channel ${channel} of the ${role}s is constant (value ${stats.means[channel]}); mean/std normalization ` +
          'needs pixel values that vary',
        { file: images.length === 1 ? images[0].name : undefined, channel },
      );
    }
  }
  return stats;
}

/** Stats given in the configuration, if any (CAREamics stores them once computed). */
export function configuredStats(config: Configuration): Statistics | undefined {
  const n = config.data_config.normalization;
  if (n.name === 'none') return { input: { name: 'none' } };
  if (n.name !== 'mean_std' || !n.input_means || !n.input_stds) return undefined;
  return {
    input: { name: 'mean_std', means: n.input_means, stds: n.input_stds },
    target:
      n.target_means && n.target_stds
        ? { name: 'mean_std', means: n.target_means, stds: n.target_stds }
        : undefined,
  };
}

export class TrainingSet {
  private constructor(
    readonly config: Configuration,
    readonly train: ImageArray[],
    readonly trainTargets: ImageArray[] | undefined,
    readonly val: ImageArray[],
    readonly valTargets: ImageArray[] | undefined,
    readonly patching: Patching,
    readonly valSpecs: PatchSpec[],
    readonly stats: Statistics,
  ) {}

  static async load(
    config: Configuration,
    data: TrainingData,
    rng: Rng,
    signal?: AbortSignal,
  ): Promise<TrainingSet> {
    const { data_config: d, algorithm_config: a } = config;
    const supervised = isSupervised(a);
    if (data.trainSource.length === 0) throw new DataError('MissingData', 'no training images were given');
    if (supervised && !data.trainTarget) {
      throw new DataError('MissingData', `${a.algorithm.toUpperCase()} needs training targets (trainTarget)`);
    }
    if (data.trainTarget && data.trainTarget.length !== data.trainSource.length) {
      throw new DataError(
        'MissingData',
        `${data.trainSource.length} training images but ${data.trainTarget.length} targets`,
      );
    }
    if (!isTrainingPatching(d.patching.name) || !('patch_size' in d.patching)) {
      throw new DataError(
        'UnsupportedPatching',
        `data_config.patching "${d.patching.name}" is for prediction; training needs stratified or random`,
      );
    }
    const patchSize = d.patching.patch_size;
    const targetAxes = d.target_axes ?? d.axes;
    const load = (sources: readonly ImageSource[], axes: string, role: string) =>
      loadAll(sources, axes, patchSize, role, signal);
    const train = await load(data.trainSource, d.axes, 'training image');
    const trainTargets = data.trainTarget && (await load(data.trainTarget, targetAxes, 'training target'));
    trainTargets?.forEach((t, i) => {
      if (t.shape.join() !== train[i].shape.join() && t.axes === train[i].axes) {
        throw new DataError(
          'ShapeMismatch',
          `shape [${t.shape}] differs from its input [${train[i].shape}]`,
          {
            file: t.name,
          },
        );
      }
    });
    const channels = a.model.in_channels;
    const stats = configuredStats(config) ?? {
      input: computeStats(train, d.normalization.name, channels, 'training image'),
      target:
        trainTargets &&
        computeStats(trainTargets, d.normalization.name, predictionChannels(a), 'training target'),
    };
    const valGiven = data.valSource !== undefined && data.valSource.length > 0;
    const { training: patching, validation } = TRAINING_PATCHING[d.patching.name](
      train,
      patchSize,
      rng,
      valGiven ? 0 : d.n_val_patches,
    );
    let val: ImageArray[];
    let valTargets: ImageArray[] | undefined;
    let valSpecs: PatchSpec[];
    if (data.valSource && valGiven) {
      val = await load(data.valSource, d.axes, 'validation image');
      valTargets = data.valTarget && (await load(data.valTarget, targetAxes, 'validation target'));
      if (supervised && !valTargets)
        throw new DataError('MissingData', 'validation images need validation targets');
      valSpecs = epochPatchSpecs(new StratifiedPatching(val, patchSize, rng));
    } else {
      val = train;
      valTargets = trainTargets;
      valSpecs = validation;
    }
    return new TrainingSet(config, train, trainTargets, val, valTargets, patching, valSpecs, stats);
  }

  get patchesPerEpoch(): number {
    return this.patching.nPatches;
  }

  /** This epoch's training patches, shuffled. */
  epochSpecs(rng: Rng): PatchSpec[] {
    return epochPatchSpecs(this.patching, rng);
  }

  /** Training batch: normalized, augmented identically for input and target, masked for N2V. */
  trainingBatch(specs: readonly PatchSpec[], rng: Rng): PreparedBatch {
    const { input, target } = this.extract(this.train, this.trainTargets, specs);
    augmentBatch(input, target, this.config.data_config.augmentations, rng);
    return this.finish(input, target, rng);
  }

  /** Validation batch: no augmentation; N2V masks drawn from `rng` (seeded per epoch by the caller). */
  validationBatch(specs: readonly PatchSpec[], rng: Rng): PreparedBatch {
    const { input, target } = this.extract(this.val, this.valTargets, specs);
    return this.finish(input, target, rng);
  }

  private extract(images: ImageArray[], targets: ImageArray[] | undefined, specs: readonly PatchSpec[]) {
    const raw = extractPatchBatch(images, specs);
    const axes = batchAxes(raw.shape.length - 2);
    const input = normalize(raw, axes, this.stats.input);
    const target = targets
      ? normalize(extractPatchBatch(targets, specs), axes, this.stats.target ?? this.stats.input)
      : undefined;
    return { input, target };
  }

  private finish(
    input: NDArray<Float32Array>,
    target: NDArray<Float32Array> | undefined,
    rng: Rng,
  ): PreparedBatch {
    const algorithm = this.config.algorithm_config;
    if (isSelfSupervised(algorithm)) {
      const { masked, mask } = n2vManipulate(input, algorithm.n2v_config, rng);
      return { input: masked.data, target: input.data, mask: mask.data, shape: input.shape };
    }
    return { input: input.data, target: target!.data, shape: input.shape };
  }
}

/** The configuration with computed mean/std written in, as CAREamics saves it after training. */
export function configWithStatistics(config: Configuration, stats: Statistics): Configuration {
  const n = config.data_config.normalization;
  if (n.name !== 'mean_std' || stats.input.name !== 'mean_std') return config;
  const target = stats.target?.name === 'mean_std' ? stats.target : undefined;
  return {
    ...config,
    data_config: {
      ...config.data_config,
      normalization: {
        ...n,
        input_means: stats.input.means,
        input_stds: stats.input.stds,
        target_means: target?.means ?? n.target_means,
        target_stds: target?.stds ?? n.target_stds,
      },
    },
  };
}
