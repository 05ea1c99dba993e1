/**
 * The cover image: input | output side by side (2:1, as bioimage.io recommends), middle Z slice of the first
 * sample, each channel percentile-normalized to 8 bits. One channel is grey; two or more become RGB (two
 * channels in G and B, as CAREamics does; beyond three, the first three).
 */
import { encodePngImage } from '../io/png.js';
import type { Tensor } from './types.js';

/** Longest side of each half of the cover; larger images are block-averaged to keep the PNG small. */
const MAX_SIDE = 256;
const LOW_PERCENTILE = 1;
const HIGH_PERCENTILE = 99.8;

function percentile(sorted: Float32Array, p: number): number {
  const pos = (p / 100) * (sorted.length - 1);
  const i = Math.floor(pos);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i] + (sorted[j] - sorted[i]) * (pos - i);
}

/** Channel planes (Y·X each) of the middle Z slice of sample 0. */
function middlePlanes(t: Tensor): { planes: Float32Array[]; height: number; width: number } {
  const [, channels, ...spatial] = t.shape;
  const [height, width] = spatial.slice(-2);
  const depth = spatial.length === 3 ? spatial[0] : 1;
  const plane = height * width;
  const z = Math.floor(depth / 2);
  const planes = Array.from({ length: channels }, (_, c) =>
    t.data.subarray((c * depth + z) * plane, (c * depth + z + 1) * plane),
  );
  return { planes, height, width };
}

function toBytes(plane: Float32Array): Uint8Array {
  const sorted = Float32Array.from(plane).sort();
  const lo = percentile(sorted, LOW_PERCENTILE);
  const hi = percentile(sorted, HIGH_PERCENTILE);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  return Uint8Array.from(plane, (v) => Math.round(Math.min(255, Math.max(0, (v - lo) * scale))));
}

function downsample(plane: Uint8Array, height: number, width: number, f: number): Uint8Array {
  const h = Math.floor(height / f);
  const w = Math.floor(width / f);
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let dy = 0; dy < f; dy++)
        for (let dx = 0; dx < f; dx++) sum += plane[(y * f + dy) * width + x * f + dx];
      out[y * w + x] = Math.round(sum / (f * f));
    }
  return out;
}

/** 8-bit display planes: 1 (grey) or 3 (RGB). */
function displayPlanes(t: Tensor, colors: 1 | 3) {
  const { planes, height, width } = middlePlanes(t);
  const f = Math.max(1, Math.ceil(Math.max(height, width) / MAX_SIDE));
  const bytes = planes.slice(0, 3).map((p) => downsample(toBytes(p), height, width, f));
  const [h, w] = [Math.floor(height / f), Math.floor(width / f)];
  if (colors === 1) return { planes: bytes, h, w };
  const rgb =
    bytes.length === 1
      ? [bytes[0], bytes[0], bytes[0]]
      : bytes.length === 2
        ? [new Uint8Array(h * w), ...bytes]
        : bytes;
  return { planes: rgb, h, w };
}

/** PNG bytes of the cover; input and output must have the same spatial size. */
export function createCover(input: Tensor, output: Tensor): Uint8Array {
  const colors = input.shape[1] > 1 || output.shape[1] > 1 ? 3 : 1;
  const left = displayPlanes(input, colors);
  const right = displayPlanes(output, colors);
  const { h, w } = left;
  const data = new Uint8Array(colors * h * 2 * w);
  for (let c = 0; c < colors; c++)
    for (let y = 0; y < h; y++) {
      const row = (c * h + y) * 2 * w;
      data.set(left.planes[c].subarray(y * w, (y + 1) * w), row);
      data.set(right.planes[c].subarray(y * w, (y + 1) * w), row + w);
    }
  return colors === 1
    ? encodePngImage({ data, shape: [h, 2 * w] }, 'YX', 'cover.png')
    : encodePngImage({ data, shape: [3, h, 2 * w] }, 'CYX', 'cover.png');
}
