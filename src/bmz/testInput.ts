/**
 * What an export needs besides the weights: a test input cut from a real image, and the model wrapped with its
 * normalization so that `outputs.npy` is what a user of the package gets. Shared by the CLI and the web app.
 */

import type { UNetConfig } from '../config/index.js';
import type { ImageSource } from '../io/types.js';
import type { Normalization, PredictFn } from '../prediction/index.js';
import { minimumSize } from './rdf.js';
import type { Tensor } from './types.js';

/** Largest test crop per axis: a few hundred pixels keep the package small and its test fast. */
const CROP = { YX: 256, Z: 32 };
const EPS = 1e-6;

/** A centred crop usable as test input: spatial sizes in multiples of 2**depth, every channel, the middle S/T plane. */
export async function centredTestCrop(
  source: ImageSource,
  a: UNetConfig,
): Promise<{ data: Float32Array; shape: number[]; axes: string }> {
  const step = 2 ** a.depth;
  const min = minimumSize(a);
  const start: number[] = [];
  const stop: number[] = [];
  const shape: number[] = [];
  let axes = '';
  [...source.axes].forEach((letter, i) => {
    const size = source.shape[i]!;
    const spatial = letter === 'Y' || letter === 'X' || (letter === 'Z' && a.conv_dims === 3);
    const crop = Math.max(min, letter === 'Z' ? CROP.Z : CROP.YX);
    const length = spatial ? Math.min(Math.floor(size / step) * step, crop) : letter === 'C' ? size : 1;
    start.push(Math.floor((size - length) / 2));
    stop.push(start[i]! + length);
    if (spatial || letter === 'C') {
      shape.push(length);
      axes += letter;
    }
  });
  const region = await source.read({ start, stop });
  return { data: Float32Array.from(region.data), shape, axes };
}

/** `predict` on raw (B, C, [Z,] Y, X) tensors: normalized with the input statistics, denormalized with the target's. */
export function normalizedPredict(predict: PredictFn, n: Normalization): (t: Tensor) => Promise<Tensor> {
  return async (t) => {
    const x = Float32Array.from(t.data);
    scaleChannels(x, t.shape, n.mean, n.std, false);
    const y = await predict(x, [...t.shape]);
    scaleChannels(y.data, y.shape, n.targetMean ?? n.mean, n.targetStd ?? n.std, true);
    return y;
  };
}

/** `(x − mean) / (std + ε)` per channel, or its inverse, in place. */
function scaleChannels(
  data: Float32Array,
  shape: readonly number[],
  mean: number[],
  std: number[],
  inverse: boolean,
) {
  const channels = shape[1]!;
  const plane = shape.slice(2).reduce((a, b) => a * b, 1);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / plane) % channels;
    const m = mean[mean.length === 1 ? 0 : c]!;
    const s = std[std.length === 1 ? 0 : c]! + EPS;
    data[i] = inverse ? data[i]! * s + m : (data[i]! - m) / s;
  }
}
