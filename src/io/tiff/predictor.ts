import type { TypedArray } from '../types.js';

const swap16 = (v: number) => ((v & 0xff) << 8) | (v >>> 8);
const swap32 = (v: number) =>
  (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/**
 * geotiff (v3) undoes TIFF horizontal differencing (predictor 2) on words in the host's little-endian order even
 * when the file is big-endian, so 16/32-bit big-endian files with a predictor come out wrong. Given geotiff's
 * output for whole rows, this recovers the deltas it summed and sums the right ones instead, in place.
 * Sums restart every `blockWidth` pixels, as geotiff decodes each tile (or strip row) separately.
 */
export function fixBigEndianHorizontalPredictor(plane: TypedArray, width: number, blockWidth: number): void {
  const bits = plane.BYTES_PER_ELEMENT * 8;
  if (bits !== 16 && bits !== 32) return;
  const words =
    bits === 16
      ? new Uint16Array(plane.buffer, plane.byteOffset, plane.length)
      : new Uint32Array(plane.buffer, plane.byteOffset, plane.length);
  const swap = bits === 16 ? swap16 : swap32;
  const wrap = bits === 16 ? (v: number) => v & 0xffff : (v: number) => v >>> 0;
  for (let row = 0; row < words.length / width; row++) {
    for (let block = 0; block < width; block += blockWidth) {
      let previousSum = 0;
      let value = 0;
      for (let x = block; x < Math.min(width, block + blockWidth); x++) {
        const i = row * width + x;
        const wrongSum = swap(words[i]!);
        const delta = swap(wrap(wrongSum - previousSum));
        previousSum = wrongSum;
        value = wrap(value + delta);
        words[i] = value;
      }
    }
  }
}
