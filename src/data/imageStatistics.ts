/** Whole-image statistics of a source of any size, streamed in slabs with the normalization module's routines. */
import type { ImageSource, Region } from '../io/types.js';
import { MinMaxStatistics, WelfordStatistics } from './normalization.js';

/** Images larger than this many values are read in slabs along their first axis (64 MiB as float64). */
const SLAB_VALUES = 8 * 2 ** 20;

/**
 * The slabs along the first axis that a streaming pass over an image of `shape` reads: about `slabValues` values
 * each, and whole multiples of `chunkExtent` (the chunk extent along that axis) so no chunk is decoded twice.
 * Training computes its statistics slab by slab in memory too, so both modes sum in the same order.
 */
export function statisticsSlabs(
  shape: readonly number[],
  chunkExtent = 1,
  slabValues = SLAB_VALUES,
): Region[] {
  const total = shape.reduce((a, b) => a * b, 1);
  const first = shape[0] ?? 1;
  const perFirst = total / Math.max(1, first);
  const rows = Math.max(1, Math.floor(slabValues / Math.max(1, perFirst)));
  const slab = Math.max(chunkExtent, Math.floor(rows / chunkExtent) * chunkExtent);
  const slabs: Region[] = [];
  for (let start = 0; start < first; start += slab) {
    slabs.push({
      start: shape.map((_, i) => (i === 0 ? start : 0)),
      stop: shape.map((n, i) => (i === 0 ? Math.min(first, start + slab) : n)),
    });
  }
  return slabs;
}

export interface ImageStatistics {
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (numpy's `std`). */
  std: number;
}

/** Min, max, mean and std over every pixel of `source` (all channels together), never all in memory at once. */
export async function imageStatistics(
  source: ImageSource,
  options: { signal?: AbortSignal; slabValues?: number } = {},
): Promise<ImageStatistics> {
  const { shape } = source;
  const total = shape.reduce((a, b) => a * b, 1);
  const perFirst = total / Math.max(1, shape[0]!);
  const slabValues = options.slabValues ?? SLAB_VALUES;
  const slab = shape.length > 2 ? Math.max(1, Math.floor(slabValues / perFirst)) : shape[0]!;
  const moments = new WelfordStatistics(1);
  const range = new MinMaxStatistics(1);
  for (let first = 0; first < shape[0]!; first += slab) {
    const stop = [Math.min(shape[0]!, first + slab), ...shape.slice(1)];
    const start = shape.map((_, i) => (i === 0 ? first : 0));
    const { data } = await source.read({ start, stop }, { signal: options.signal });
    // One flat run of values: statistics over all channels together.
    const flat = { data, shape: [1, data.length] };
    moments.update(flat, 'YX');
    range.update(flat, 'YX');
  }
  const { mins, maxes } = range.finalize() as { mins: number[]; maxes: number[] };
  return { min: mins[0]!, max: maxes[0]!, mean: moments.mean[0]!, std: moments.std(0) };
}

export interface GroupedMoments {
  /** One value per group, groups in row-major order of `groupAxes` (as given). */
  mean: number[];
  /** Population standard deviation per group. */
  std: number[];
}

/**
 * Mean and std of `source` per group, one group per index tuple of `groupAxes` (e.g. the sample and channel
 * axes), every other axis reduced; read in slabs along the first axis, never all in memory at once.
 */
export async function groupedMoments(
  source: ImageSource,
  groupAxes: readonly number[],
  options: { signal?: AbortSignal; slabValues?: number } = {},
): Promise<GroupedMoments> {
  const { shape } = source;
  const groupSizes = groupAxes.map((a) => shape[a]!);
  const groups = groupSizes.reduce((a, b) => a * b, 1);
  // Group stride of each image axis (0 for reduced axes).
  const groupStride = shape.map(() => 0);
  groupAxes.forEach((axis, i) => {
    groupStride[axis] = groupSizes.slice(i + 1).reduce((a, b) => a * b, 1);
  });
  // The trailing reduced axes (not the first: slabs cut it) make runs of consecutive values in one group.
  let outer = shape.length - 1;
  let run = 1;
  for (; outer >= 1 && !groupAxes.includes(outer); outer--) run *= shape[outer]!;
  const perFirst = shape.slice(1).reduce((a, b) => a * b, 1);
  const slab = Math.max(1, Math.floor((options.slabValues ?? SLAB_VALUES) / perFirst));
  const moments = new WelfordStatistics(groups);
  for (let first = 0; first < shape[0]!; first += slab) {
    const stop = [Math.min(shape[0]!, first + slab), ...shape.slice(1)];
    const start = shape.map((_, i) => (i === 0 ? first : 0));
    const { data } = await source.read({ start, stop }, { signal: options.signal });
    const slabShape = [stop[0]! - first, ...shape.slice(1)];
    const index = slabShape.map(() => 0);
    for (let r = 0; r * run < data.length; r++) {
      let g = (first + index[0]!) * groupStride[0]!;
      for (let d = 1; d <= outer; d++) g += index[d]! * groupStride[d]!;
      moments.addRun(g, data, r * run, (r + 1) * run);
      for (let d = outer; d >= 0 && ++index[d]! === slabShape[d]; d--) index[d] = 0;
    }
  }
  return { mean: Array.from(moments.mean), std: Array.from(moments.mean, (_, g) => moments.std(g)) };
}
