import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allocate } from '../../src/io/dtype.js';
import type { DType, NDArray, TypedArray } from '../../src/io/types.js';

/** The shared read-only data sets (never copied into the repo); tests skip when the folder is absent. */
export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
export const MICROSCOPY = `${SHARED_DATA}microscopy/`;
export const BSD = `${SHARED_DATA}bsd/`;
export const HAS_SHARED_DATA = existsSync(MICROSCOPY);
if (!HAS_SHARED_DATA) console.warn(`skipping real-data tests: ${MICROSCOPY} is absent`);

export function stats(data: TypedArray): { min: number; max: number; mean: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / data.length };
}

/** Values spanning each dtype's range (extremes included), deterministic. */
export function sampleArray(dtype: DType, shape: number[]): NDArray {
  const length = shape.reduce((a, b) => a * b, 1);
  const data = allocate(dtype, length);
  const extremes: Record<DType, [number, number]> = {
    uint8: [0, 255],
    int8: [-128, 127],
    uint16: [0, 65535],
    int16: [-32768, 32767],
    uint32: [0, 4294967295],
    int32: [-2147483648, 2147483647],
    float32: [-3.4e38, 3.4e38],
    float64: [-1.7e308, Number.MIN_VALUE],
  };
  for (let i = 0; i < length; i++)
    data[i] = ((i * 7919) % 251) - (dtype.startsWith('u') ? 0 : 100) + (dtype.startsWith('f') ? 0.25 : 0);
  if (length >= 2) {
    data[0] = extremes[dtype][0];
    data[length - 1] = extremes[dtype][1];
  }
  return { data, shape };
}
