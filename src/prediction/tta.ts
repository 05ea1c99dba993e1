import { product } from '../io/ndarray.js';
import type { PredictFn } from './types.js';

/** A rotation of YX by `rot` quarter turns (as `torch.rot90(x, rot, dims=(-2, -1))`), then a flip. */
interface Orientation {
  rot: number;
  flip: 'none' | 'y' | 'x';
}

/**
 * The 8 orientations of CAREamics legacy `transforms/tta.py`: identity, 3 rotations, the Y and X flips, and
 * the once-rotated image flipped along Y and along X.
 */
export const TTA_ORIENTATIONS: readonly Orientation[] = [
  { rot: 0, flip: 'none' },
  { rot: 1, flip: 'none' },
  { rot: 2, flip: 'none' },
  { rot: 3, flip: 'none' },
  { rot: 0, flip: 'y' },
  { rot: 0, flip: 'x' },
  { rot: 1, flip: 'y' },
  { rot: 1, flip: 'x' },
];

/**
 * Copies every YX plane of an array (h × w) into an `oh × ow` plane whose pixel (i, j) is read from
 * `origin + i·di + j·dj` of the source plane: one loop for all rotations and flips.
 */
function remapPlanes(
  data: Float32Array,
  shape: readonly number[],
  [oh, ow]: [number, number],
  [origin, di, dj]: [number, number, number],
): Float32Array {
  const area = shape[shape.length - 2]! * shape[shape.length - 1]!;
  const planes = product(shape.slice(0, -2));
  const out = new Float32Array(data.length);
  let next = 0;
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < oh; i++) {
      const row = p * area + origin + i * di;
      for (let j = 0; j < ow; j++) out[next++] = data[row + j * dj]!;
    }
  }
  return out;
}

/** Rotates every YX plane of an array by `k` quarter turns, like `numpy.rot90(x, k, axes=(-2, -1))`. */
export function rot90(
  data: Float32Array,
  shape: readonly number[],
  k: number,
): { data: Float32Array; shape: number[] } {
  const turns = ((k % 4) + 4) % 4;
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  const outShape = turns % 2 === 0 ? [...shape] : [...shape.slice(0, -2), w, h];
  // Output (i, j) reads (i, j); once rotated (j, w−1−i); twice (h−1−i, w−1−j); thrice (h−1−j, i).
  const steps: [number, number, number][] = [
    [0, w, 1],
    [w - 1, -1, w],
    [h * w - 1, -w, -1],
    [(h - 1) * w, 1, -w],
  ];
  return {
    data: remapPlanes(data, shape, [outShape.at(-2)!, outShape.at(-1)!], steps[turns]!),
    shape: outShape,
  };
}

/** Flips every YX plane along Y or X. */
export function flipPlanes(data: Float32Array, shape: readonly number[], axis: 'y' | 'x'): Float32Array {
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  return remapPlanes(data, shape, [h, w], axis === 'y' ? [(h - 1) * w, -w, 1] : [w - 1, w, -1]);
}

export function orient(
  data: Float32Array,
  shape: readonly number[],
  o: Orientation,
): { data: Float32Array; shape: number[] } {
  const rotated = rot90(data, shape, o.rot);
  if (o.flip === 'none') return rotated;
  return { data: flipPlanes(rotated.data, rotated.shape, o.flip), shape: rotated.shape };
}

/** Undoes `orient`: the flip first (its own inverse), then the rotation backwards. */
export function unorient(
  data: Float32Array,
  shape: readonly number[],
  o: Orientation,
): { data: Float32Array; shape: number[] } {
  const unflipped = o.flip === 'none' ? data : flipPlanes(data, shape, o.flip);
  return rot90(unflipped, shape, -o.rot);
}

/**
 * Test-time augmentation around a model: runs it on the 8 orientations of the batch's YX planes, undoes each
 * orientation on the output and averages. Rotated non-square tiles reach the model with Y and X swapped.
 */
export function withTTA(predictFn: PredictFn): PredictFn {
  return async (batch, shape, signal) => {
    let sum: Float32Array | undefined;
    let outShape: number[] = [];
    for (const o of TTA_ORIENTATIONS) {
      signal?.throwIfAborted();
      const input = orient(batch, shape, o);
      const output = await predictFn(input.data, input.shape, signal);
      const restored = unorient(output.data, output.shape, o);
      if (sum === undefined) {
        sum = restored.data;
        outShape = restored.shape;
      } else {
        for (let i = 0; i < sum.length; i++) sum[i]! += restored.data[i]!;
      }
    }
    const mean = sum!;
    for (let i = 0; i < mean.length; i++) mean[i]! /= TTA_ORIENTATIONS.length;
    return { data: mean, shape: outShape };
  };
}
