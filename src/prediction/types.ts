import type { NDArray, Region } from '../io/types.js';

/**
 * Runs the model on a batch of tiles of shape `(B, C, [Z,] Y, X)` (C order, normalized) and resolves to the
 * output batch `(B, C', [Z,] Y, X)`: same batch and spatial size, C' the model's output channels.
 */
export type PredictFn = (
  batch: Float32Array,
  shape: number[],
  signal?: AbortSignal,
) => Promise<{ data: Float32Array; shape: number[] }>;

/** What tiling needs to know about the model behind a `PredictFn`. */
export interface ModelFacts {
  /** UNet depth: tiles are multiples of `2 ** depth` along every spatial axis. */
  depth: number;
  inChannels: number;
  outChannels: number;
  /** Z is a spatial axis for the model (3D convolutions); otherwise Z is iterated like S and T. */
  is3D: boolean;
  /** Pixels of context the model needs on each side of an output pixel; overlaps default to twice this. */
  receptiveFieldHalo?: number;
  /** Working memory of the model per input voxel of a tile, for automatic tile sizes. */
  bytesPerInputPixel?: number;
}

/** Per-channel mean/std normalization, `(x − μ) / (σ + 1e-6)`; outputs use target stats when given. */
export interface Normalization {
  mean: number[];
  std: number[];
  /** Stats for denormalizing the output (CARE, N2N); the input stats are used when absent. */
  targetMean?: number[];
  targetStd?: number[];
}

/**
 * Input-only standardization with statistics computed beforehand per sample (bioimage.io's per-sample
 * `zero_mean_unit_variance` over the whole image, whatever the tiling): `(x − μ) / (σ + eps)` per input channel,
 * the output left as the model gives it. A sample is one index of the iterated axes (S, T, and Z for a 2D model).
 */
export interface Standardization {
  /** `[sample][channel]`, samples in row-major order of the iterated axes; one entry applies to every sample. */
  mean: number[][];
  std: number[][];
  eps: number;
}

export interface PredictOptions {
  model: ModelFacts;
  /** One size per model spatial axis (Z, Y, X or Y, X); chosen from the memory budget when absent. */
  tileSize?: number[];
  /** One even overlap per spatial axis; defaults to max(48, 2 × halo) capped below the tile. */
  tileOverlap?: number[];
  /** Tiles per model call (default 1). */
  batchSize?: number;
  /** Average the 8 rotations/flips of YX (CAREamics legacy `ImageRestorationTTA`). */
  tta?: boolean;
  normalization?: Normalization;
  /** Per-sample input statistics instead of `normalization` (not both); the output is not denormalized. */
  standardization?: Standardization;
  /**
   * `predict` only: `input` casts back to the input dtype, rounding and clipping integers (default `float32`).
   * `predictToWriter` always casts to `writer.dtype`.
   */
  outputDtype?: 'float32' | 'input';
  /** Budget for automatic tile sizes; default `memoryFraction` of `availableMemoryBytes`, else 512 MiB. */
  memoryBudgetBytes?: number;
  availableMemoryBytes?: number;
  /** Fraction of `availableMemoryBytes` to use (default 0.5). */
  memoryFraction?: number;
  /**
   * `predictToWriter` only: predict and write just this box of the output (writer axes; C is always whole),
   * with the tiles of the whole image, so boxes predicted apart (other processes, other machines) stitch to
   * exactly the whole-image prediction. See `partitionRegions`.
   */
  outputRegion?: Region;
  onProgress?: (tilesDone: number, total: number) => void;
  signal?: AbortSignal;
}

/** A dense array with its axis letters, e.g. `{ data, shape: [512, 512], axes: 'YX' }`. */
export interface AxesArray extends NDArray {
  axes: string;
}
