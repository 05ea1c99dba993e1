/** Pure helpers for showing n-d images: 2-D planes, percentile contrast, value range, memory limits. */
import type { NDArray } from 'careamics-js';

type TypedArray = NDArray['data'];

/** Larger images are refused: training holds the image and its float32 copy, plus the prediction. */
export const MAX_FLOAT32_BYTES = 2 ** 30;

export interface Plane {
  data: Float32Array;
  width: number;
  height: number;
}

/** Axes other than Y and X: each gets a slider. */
export function sliceAxes(axes: string): string[] {
  return [...axes].filter((a) => a !== 'Y' && a !== 'X');
}

/** The YX plane at `index` (one position per non-YX axis, by letter; missing letters mean 0). */
export function extractPlane(
  data: ArrayLike<number>,
  shape: readonly number[],
  axes: string,
  index: Record<string, number>,
): Plane {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const y = axes.indexOf('Y');
  const x = axes.indexOf('X');
  let base = 0;
  for (const [i, axis] of [...axes].entries()) {
    if (i === y || i === x) continue;
    base += Math.min(Math.max(index[axis] ?? 0, 0), shape[i]! - 1) * strides[i]!;
  }
  const height = shape[y]!;
  const width = shape[x]!;
  const out = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    const row = base + r * strides[y]!;
    for (let c = 0; c < width; c++) out[r * width + c] = data[row + c * strides[x]!]!;
  }
  return { data: out, width, height };
}

/** Percentiles (0–100) of the finite values, from a strided sample of at most `maxSamples` values. */
export function percentiles(data: ArrayLike<number>, ps: readonly number[], maxSamples = 200_000): number[] {
  const step = Math.max(1, Math.floor(data.length / maxSamples));
  const sample: number[] = [];
  for (let i = 0; i < data.length; i += step) if (Number.isFinite(data[i])) sample.push(data[i]!);
  if (sample.length === 0) return ps.map(() => 0);
  const sorted = Float64Array.from(sample).sort();
  return ps.map((p) => {
    const pos = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  });
}

/** Grey RGBA pixels with `low` → black and `high` → white. */
export function toRgba(plane: Plane, low: number, high: number): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(plane.width * plane.height * 4);
  const scale = high > low ? 255 / (high - low) : 0;
  for (let i = 0; i < plane.data.length; i++) {
    const v = (plane.data[i]! - low) * scale;
    rgba[4 * i] = v;
    rgba[4 * i + 1] = v;
    rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

/** Smallest and largest finite value. */
export function valueRange(data: TypedArray): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** A message when an image of `shape` would not fit the browser's memory as float32, else undefined. */
export function memoryProblem(shape: readonly number[], name: string): string | undefined {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  if (bytes <= MAX_FLOAT32_BYTES) return undefined;
  const gib = (bytes / 2 ** 30).toFixed(1);
  return `${name} is too large for browser memory: [${shape.join(', ')}] is ${gib} GiB as float32 (limit 1 GiB). Crop or bin it first, or use the command line (npx careamics).`;
}
