import { validateAxes } from '../io/axes.js';
import { PredictionError } from './errors.js';
import type { ModelFacts } from './types.js';

/**
 * For every index `i` of a box (one offset list per axis, same lengths on both sides), copies
 * `src[Σ srcOffsets[a][i_a]]` to `dst[Σ dstOffsets[a][i_a]]`. Offsets carry strides, crops, transposes and
 * padding (a padded index simply repeats a source offset), so one loop serves gather, scatter and cast.
 */
export function copyStrided(
  src: ArrayLike<number>,
  srcOffsets: readonly Int32Array[],
  dst: { [index: number]: number },
  dstOffsets: readonly Int32Array[],
): void {
  const rank = srcOffsets.length;
  const last = rank - 1;
  const walk = (axis: number, srcBase: number, dstBase: number): void => {
    const s = srcOffsets[axis]!;
    const d = dstOffsets[axis]!;
    if (axis === last) {
      for (let i = 0; i < s.length; i++) dst[dstBase + d[i]!] = src[srcBase + s[i]!]!;
      return;
    }
    for (let i = 0; i < s.length; i++) walk(axis + 1, srcBase + s[i]!, dstBase + d[i]!);
  };
  if (rank === 0) dst[0] = src[0]!;
  else walk(0, 0, 0);
}

/** Offsets `[start, start + length)` along an axis of the given stride. */
export function rangeOffsets(start: number, length: number, stride: number): Int32Array {
  const offsets = new Int32Array(length);
  for (let i = 0; i < length; i++) offsets[i] = (start + i) * stride;
  return offsets;
}

/**
 * Where the model's axes live in an image. The model sees `(B, C, [Z], Y, X)`; the image has any subset of
 * `STCZYX` in any order. S, T (and Z for a 2D model) are iterated over; C goes whole into every tile.
 */
export interface ImageLayout {
  axes: string;
  shape: number[];
  /** Image axis indices iterated over, in S, T, Z order. */
  iterAxes: number[];
  /** Image axis index of C, or -1 when the image has one implicit channel. */
  channelAxis: number;
  /** Image axis indices the model sees spatially: Z, Y, X for a 3D model, Y, X for a 2D one. */
  spatialAxes: number[];
}

export function resolveLayout(
  axes: string,
  shape: readonly number[],
  model: ModelFacts,
  name = '<memory>',
): ImageLayout {
  const upper = validateAxes(axes, shape, name, { adjacentYX: false });
  const fail = (problem: string): never => {
    throw new PredictionError(
      'IncompatibleModel',
      `${name}: axes "${axes}" with shape [${shape.join(', ')}]: ${problem}`,
      {
        shape,
      },
    );
  };
  if (model.is3D && !upper.includes('Z')) fail('a 3D model needs a Z axis');
  const channelAxis = upper.indexOf('C');
  const channels = channelAxis < 0 ? 1 : shape[channelAxis]!;
  if (channels !== model.inChannels) {
    fail(`the model expects ${model.inChannels} channel(s), the image has ${channels}`);
  }
  const find = (letters: string) => [...letters].map((l) => upper.indexOf(l)).filter((i) => i >= 0);
  return {
    axes: upper,
    shape: [...shape],
    iterAxes: find(model.is3D ? 'ST' : 'STZ'),
    channelAxis,
    spatialAxes: find(model.is3D ? 'ZYX' : 'YX'),
  };
}

/**
 * Axes and shape of the prediction of an image: the input's, with C holding the model's output channels;
 * a C axis is inserted before the first of Z, Y, X when the input has none and the model outputs several.
 */
export function outputLayout(
  axes: string,
  shape: readonly number[],
  outChannels: number,
): { axes: string; shape: number[] } {
  const upper = axes.toUpperCase();
  const channelAxis = upper.indexOf('C');
  if (channelAxis >= 0) {
    return { axes: upper, shape: shape.map((size, i) => (i === channelAxis ? outChannels : size)) };
  }
  if (outChannels === 1) return { axes: upper, shape: [...shape] };
  const at = [...upper].findIndex((letter) => 'ZYX'.includes(letter));
  return {
    axes: `${upper.slice(0, at)}C${upper.slice(at)}`,
    shape: [...shape.slice(0, at), outChannels, ...shape.slice(at)],
  };
}
