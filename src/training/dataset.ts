/**
 * The training and validation sets of one run: where the patches come from (memory, or the files on demand),
 * normalization statistics, the patch plans, and batches ready for the engine (normalized, augmented, N2V-masked).
 */
import { type Configuration, isSelfSupervised, isSupervised, predictionChannels } from '../config/index.js';
import {
  augmentBatch,
  checkPatchFits,
  createStatsAccumulator,
  DataError,
  epochPatchSpecs,
  type ImageArray,
  isTrainingPatching,
  type NormalizationStats,
  n2vManipulate,
  normalize,
  type Patching,
  type PatchSpec,
  type Rng,
  StratifiedPatching,
  statisticsSlabs,
  TRAINING_PATCHING,
} from '../data/index.js';
import { CachedSource, ChunkCache, isChunkedSource } from '../io/chunks.js';
import { bytesPerElement } from '../io/dtype.js';
import { extractRegion, product } from '../io/ndarray.js';
import type { ImageSource, NDArray } from '../io/types.js';
import {
  countNonFinite,
  InMemoryPatches,
  OnDemandPatches,
  type PatchProvider,
  type PatchRole,
  type RawBatch,
} from './patchProvider.js';

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

/** Checks a source's axes and that a patch fits, before anything is read. */
function checkSource(source: ImageSource, axes: string, patchSize: readonly number[], role: string): void {
  if (source.axes !== axes) {
    throw new DataError('AxesMismatch', `${role} has axes ${source.axes}, the configuration says ${axes}`, {
      file: source.name,
    });
  }
  checkPatchFits(source, patchSize);
}

/** Reads every source into memory; refuses images with NaN or infinite pixels. */
async function loadAll(sources: readonly ImageSource[], signal?: AbortSignal): Promise<ImageArray[]> {
  const images: ImageArray[] = [];
  for (const source of sources) {
    const { data, shape } = await source.read(undefined, { signal });
    refuseNonFinite(countNonFinite(data), data.length, source.name);
    images.push({ name: source.name, axes: source.axes, shape, data });
  }
  return images;
}

function refuseNonFinite(bad: number, total: number, file: string): void {
  if (bad === 0) return;
  throw new DataError(
    'NonFinitePixels',
    `${bad} of ${total} pixels are NaN or infinite; remove or replace them before training`,
    { file },
  );
}

/** Batch layout of (B, C, [Z,] Y, X) for the normalization functions. */
const batchAxes = (spatialRank: number) => (spatialRank === 3 ? 'SCZYX' : 'SCYX');

/**
 * Per-channel statistics in one streaming pass, slab by slab (`statisticsSlabs`): from the arrays when they are
 * in memory, else read from the files (counting NaN and infinite pixels on the way). The slabs and so the
 * summation order are the same either way, so both modes normalize identically. A channel without variation
 * cannot be mean/std normalized.
 */
async function computeStats(
  sources: readonly ImageSource[],
  arrays: readonly ImageArray[] | undefined,
  name: NormalizationStats['name'],
  channels: number,
  role: string,
  signal?: AbortSignal,
) {
  const accumulator = createStatsAccumulator(name, channels);
  for (const [i, source] of sources.entries()) {
    const chunked = isChunkedSource(source);
    // Chunk by chunk, so a chunk that fails to decode is named; none is kept (each is read once per pass).
    const reader = chunked ? new CachedSource(source, new ChunkCache(0)) : source;
    let bad = 0;
    for (const region of statisticsSlabs(source.shape, chunked ? source.chunkShape[0] : 1)) {
      const array = arrays
        ? extractRegion({ data: arrays[i].data, shape: [...arrays[i].shape] }, region)
        : await reader.read(region, { signal });
      if (!arrays) bad += countNonFinite(array.data);
      accumulator.update(array, source.axes);
    }
    refuseNonFinite(bad, product(source.shape), source.name);
  }
  const stats = accumulator.finalize();
  if (stats.name === 'mean_std') {
    // Below float32 resolution the values are one value: dividing by that std turns noise into ±1e6.
    const channel = stats.stds.findIndex((std, ch) => std <= Math.abs(stats.means[ch]) * 1e-7);
    if (channel >= 0) {
      throw new DataError(
        'ZeroVariance',
        `channel ${channel} of the ${role}s is constant (value ${stats.means[channel]}); mean/std normalization ` +
          'needs pixel values that vary',
        { file: sources.length === 1 ? sources[0].name : undefined, channel },
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

/** How the data is held: the memory budget that decides it and where the decision is reported. */
export interface LoadOptions {
  signal?: AbortSignal;
  /**
   * Bytes the training images may take in memory. Data larger than this is trained out of core even when
   * `in_memory` is true (the default for TIFF); `undefined`: no limit.
   */
  memoryBudgetBytes?: number;
  /** Hears the one-line notice when the data is trained out of core because of the budget. */
  onMessage?: (message: string) => void;
  /** Statistics already known (a resumed run's): the streaming pass is skipped. */
  stats?: Statistics;
}

/** Decoded chunks kept for out-of-core training: a quarter of the budget, within [16 MiB, 1 GiB]. */
export function chunkCacheBytes(memoryBudgetBytes: number | undefined): number {
  const MiB = 2 ** 20;
  if (memoryBudgetBytes === undefined) return 256 * MiB;
  return Math.min(1024 * MiB, Math.max(16 * MiB, Math.floor(memoryBudgetBytes / 4)));
}

const sizeOf = (sources: readonly ImageSource[] | undefined) =>
  (sources ?? []).reduce((total, s) => total + product(s.shape) * bytesPerElement(s.dtype), 0);

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(unit === 0 ? 0 : 1))} ${units[unit]}`;
}

/**
 * Whether to train out of core: `in_memory: false` says so; otherwise data larger than the budget is (with a
 * notice), except arrays the caller holds in memory already.
 */
function decideOutOfCore(config: Configuration, data: TrainingData, options: LoadOptions): boolean {
  const d = config.data_config;
  if (!d.in_memory) return true;
  if (d.data_type === 'array' || options.memoryBudgetBytes === undefined) return false;
  const bytes =
    sizeOf(data.trainSource) + sizeOf(data.trainTarget) + sizeOf(data.valSource) + sizeOf(data.valTarget);
  if (bytes <= options.memoryBudgetBytes) return false;
  options.onMessage?.(
    `the training data (${formatBytes(bytes)}) exceeds the memory budget (${formatBytes(options.memoryBudgetBytes)}): ` +
      'training out of core, reading patches from the files on demand',
  );
  return true;
}

export class TrainingSet {
  private constructor(
    readonly config: Configuration,
    readonly provider: PatchProvider,
    readonly patching: Patching,
    readonly valSpecs: PatchSpec[],
    readonly stats: Statistics,
  ) {}

  static async load(
    config: Configuration,
    data: TrainingData,
    rng: Rng,
    options: LoadOptions = {},
  ): Promise<TrainingSet> {
    const { signal } = options;
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
    const check = (sources: readonly ImageSource[] | undefined, axes: string, role: string) => {
      for (const source of sources ?? []) checkSource(source, axes, patchSize, role);
    };
    check(data.trainSource, d.axes, 'training image');
    check(data.trainTarget, targetAxes, 'training target');
    data.trainTarget?.forEach((t, i) => {
      const input = data.trainSource[i];
      if (t.shape.join() !== input.shape.join() && t.axes === input.axes) {
        throw new DataError('ShapeMismatch', `shape [${t.shape}] differs from its input [${input.shape}]`, {
          file: t.name,
        });
      }
    });
    const valGiven = data.valSource !== undefined && data.valSource.length > 0;
    if (valGiven) {
      check(data.valSource, d.axes, 'validation image');
      check(data.valTarget, targetAxes, 'validation target');
      if (supervised && !data.valTarget)
        throw new DataError('MissingData', 'validation images need validation targets');
    }
    const outOfCore = decideOutOfCore(config, data, options);
    const inMemory = async (sources: readonly ImageSource[] | undefined) =>
      outOfCore || !sources ? undefined : loadAll(sources, signal);
    const train = await inMemory(data.trainSource);
    const trainTargets = await inMemory(data.trainTarget);
    const stats = options.stats ??
      configuredStats(config) ?? {
        input: await computeStats(
          data.trainSource,
          train,
          d.normalization.name,
          a.model.in_channels,
          'training image',
          signal,
        ),
        target:
          data.trainTarget &&
          (await computeStats(
            data.trainTarget,
            trainTargets,
            d.normalization.name,
            predictionChannels(a),
            'training target',
            signal,
          )),
      };
    const { training: patching, validation } = TRAINING_PATCHING[d.patching.name](
      data.trainSource,
      patchSize,
      rng,
      valGiven ? 0 : d.n_val_patches,
    );
    const valSources = valGiven ? data.valSource! : data.trainSource;
    const valTargetSources = valGiven ? data.valTarget : data.trainTarget;
    const valSpecs = valGiven
      ? epochPatchSpecs(new StratifiedPatching(data.valSource!, patchSize, rng))
      : validation;
    let provider: PatchProvider;
    if (outOfCore) {
      provider = new OnDemandPatches(
        {
          train: { inputs: data.trainSource, targets: data.trainTarget },
          val: { inputs: valSources, targets: valTargetSources },
        },
        chunkCacheBytes(options.memoryBudgetBytes),
      );
    } else {
      const val = valGiven ? await inMemory(data.valSource) : train;
      const valTargets = valGiven ? await inMemory(data.valTarget) : trainTargets;
      provider = new InMemoryPatches({
        train: { inputs: train!, targets: trainTargets },
        val: { inputs: val!, targets: valTargets },
      });
    }
    return new TrainingSet(config, provider, patching, valSpecs, stats);
  }

  get patchesPerEpoch(): number {
    return this.patching.nPatches;
  }

  get outOfCore(): boolean {
    return this.provider.outOfCore;
  }

  /** This epoch's training patches, shuffled. */
  epochSpecs(rng: Rng): PatchSpec[] {
    return epochPatchSpecs(this.patching, rng);
  }

  /** Normalized patches of `specs` (no randomness: safe to read ahead of the batches being trained on). */
  async readBatch(role: PatchRole, specs: readonly PatchSpec[], signal?: AbortSignal): Promise<RawBatch> {
    const raw = await this.provider.read(role, specs, signal);
    const axes = batchAxes(raw.input.shape.length - 2);
    return {
      input: normalize(raw.input, axes, this.stats.input),
      target: raw.target && normalize(raw.target, axes, this.stats.target ?? this.stats.input),
    };
  }

  /** Training batch: augmented identically for input and target, masked for N2V. */
  trainingBatch(normalized: RawBatch, rng: Rng): PreparedBatch {
    const { input, target } = normalized;
    augmentBatch(input, target, this.config.data_config.augmentations, rng);
    return this.finish(input, target, rng);
  }

  /** Validation batch: no augmentation; N2V masks drawn from `rng` (seeded per epoch by the caller). */
  validationBatch(normalized: RawBatch, rng: Rng): PreparedBatch {
    return this.finish(normalized.input, normalized.target, rng);
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
