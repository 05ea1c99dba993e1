/**
 * The training and validation sets of one run: images held in memory, normalization statistics, the patch
 * plans, and batches ready for the engine (normalized, augmented, N2V-masked).
 */
import type { Configuration } from '../config/index.js';
import {
  type AugmentationConfig,
  augmentBatch,
  createStatsAccumulator,
  createValSplit,
  epochPatchSpecs,
  extractPatchBatch,
  type ImageArray,
  type NormalizationStats,
  n2vManipulate,
  normalize,
  type PatchSpec,
  type Rng,
  StratifiedPatching,
} from '../data/index.js';
import { CareamicsError } from '../errors.js';
import type { ImageSource, NDArray } from '../io/types.js';

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

export class DataError extends CareamicsError<'DataError'> {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super('DataError', file ? `${file}: ${message}` : message);
  }
}

async function loadAll(sources: readonly ImageSource[], axes: string, role: string, signal?: AbortSignal) {
  const images: ImageArray[] = [];
  for (const source of sources) {
    if (source.axes !== axes) {
      throw new DataError(`${role} has axes ${source.axes}, the configuration says ${axes}`, source.name);
    }
    const { data, shape } = await source.read(undefined, { signal });
    images.push({ name: source.name, axes: source.axes, shape, data });
  }
  return images;
}

/** Batch layout of (B, C, [Z,] Y, X) for the normalization functions. */
const batchAxes = (spatialRank: number) => (spatialRank === 3 ? 'SCZYX' : 'SCYX');

function computeStats(images: readonly ImageArray[], name: NormalizationStats['name'], channels: number) {
  const accumulator = createStatsAccumulator(name, channels);
  for (const image of images) accumulator.update({ data: image.data, shape: [...image.shape] }, image.axes);
  return accumulator.finalize();
}

/** Stats given in the configuration, if any (CAREamics stores them once computed). */
function configuredStats(config: Configuration): Statistics | undefined {
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
    readonly patching: StratifiedPatching,
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
    const supervised = a.algorithm !== 'n2v';
    if (data.trainSource.length === 0) throw new DataError('no training images were given');
    if (supervised && !data.trainTarget) {
      throw new DataError(`${a.algorithm.toUpperCase()} needs training targets (trainTarget)`);
    }
    if (data.trainTarget && data.trainTarget.length !== data.trainSource.length) {
      throw new DataError(
        `${data.trainSource.length} training images but ${data.trainTarget.length} targets`,
      );
    }
    if (d.patching.name === 'tiled' || d.patching.name === 'whole') {
      throw new DataError(
        `patching "${d.patching.name}" is for prediction; training needs stratified or random`,
      );
    }
    const patchSize = d.patching.patch_size;
    const targetAxes = d.target_axes ?? d.axes;
    const train = await loadAll(data.trainSource, d.axes, 'training image', signal);
    const trainTargets =
      data.trainTarget && (await loadAll(data.trainTarget, targetAxes, 'training target', signal));
    trainTargets?.forEach((t, i) => {
      if (t.shape.join() !== train[i].shape.join() && t.axes === train[i].axes) {
        throw new DataError(`target shape [${t.shape}] differs from its input [${train[i].shape}]`, t.name);
      }
    });
    const patching = new StratifiedPatching(train, patchSize, rng);
    let val: ImageArray[];
    let valTargets: ImageArray[] | undefined;
    let valSpecs: PatchSpec[];
    if (data.valSource && data.valSource.length > 0) {
      val = await loadAll(data.valSource, d.axes, 'validation image', signal);
      valTargets = data.valTarget && (await loadAll(data.valTarget, targetAxes, 'validation target', signal));
      if (supervised && !valTargets) throw new DataError('validation images need validation targets');
      valSpecs = epochPatchSpecs(new StratifiedPatching(val, patchSize, rng));
    } else {
      val = train;
      valTargets = trainTargets;
      valSpecs = createValSplit(patching, rng, d.n_val_patches);
    }
    const channels = a.model.in_channels;
    const stats = configuredStats(config) ?? {
      input: computeStats(train, d.normalization.name, channels),
      target: trainTargets && computeStats(trainTargets, d.normalization.name, a.model.num_classes),
    };
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
    augmentBatch(input, target, this.config.data_config.augmentations as AugmentationConfig[], rng);
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
    if (algorithm.algorithm === 'n2v') {
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
