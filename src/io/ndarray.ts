import { canonicalPermutation } from './axes.js';
import { allocate, dtypeOf } from './dtype.js';
import { IoError } from './errors.js';
import type { NDArray, Region, TypedArray } from './types.js';

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** C-order strides in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

export function fullRegion(shape: readonly number[]): Region {
  return { start: shape.map(() => 0), stop: [...shape] };
}

export function regionShape(region: Region): number[] {
  return region.stop.map((stop, i) => stop - region.start[i]!);
}

/** Throws `RegionOutOfBounds` unless `region` is a non-empty-or-empty box inside `shape`, one range per axis. */
export function checkRegion(region: Region, shape: readonly number[], file: string): void {
  const describe = () =>
    `region [${region.start}]..[${region.stop}] does not fit shape [${shape.join(', ')}]`;
  if (region.start.length !== shape.length || region.stop.length !== shape.length) {
    throw new IoError('RegionOutOfBounds', file, `${describe()}: wrong number of axes`);
  }
  shape.forEach((extent, i) => {
    const start = region.start[i]!;
    const stop = region.stop[i]!;
    if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop > extent || start > stop) {
      throw new IoError('RegionOutOfBounds', file, `${describe()} on axis ${i}`);
    }
  });
}

/**
 * Calls `visit(sourceOffset, targetOffset)` for every innermost row of a box, so copies move whole rows.
 * `sourceOrigin`/`targetOrigin` are the box's corner in each array; `box` is its extent.
 */
function forEachRow(
  box: readonly number[],
  sourceShape: readonly number[],
  sourceOrigin: readonly number[],
  targetShape: readonly number[],
  targetOrigin: readonly number[],
  visit: (sourceOffset: number, targetOffset: number) => void,
): void {
  if (box.some((n) => n === 0)) return;
  const rank = box.length;
  const sourceStrides = stridesOf(sourceShape);
  const targetStrides = stridesOf(targetShape);
  const index = new Array<number>(rank).fill(0);
  const offsetOf = (origin: readonly number[], strides: number[]) =>
    index.reduce((sum, i, axis) => sum + (origin[axis]! + i) * strides[axis]!, 0);
  while (true) {
    visit(offsetOf(sourceOrigin, sourceStrides), offsetOf(targetOrigin, targetStrides));
    let axis = rank - 2;
    while (axis >= 0 && ++index[axis]! === box[axis]) index[axis--] = 0;
    if (axis < 0) return;
  }
}

/**
 * Copies a box of extent `box` from `source` (at `sourceOrigin`) into `target` (at `targetOrigin`), row by row;
 * both arrays are C order and of the same dtype family.
 */
export function copyBox(
  source: NDArray,
  sourceOrigin: readonly number[],
  target: NDArray,
  targetOrigin: readonly number[],
  box: readonly number[],
): void {
  const rowLength = box[box.length - 1] ?? 1;
  forEachRow(box, source.shape, sourceOrigin, target.shape, targetOrigin, (from, to) => {
    target.data.set(source.data.subarray(from, from + rowLength), to);
  });
}

/** A copy of `region` of `array`. */
export function extractRegion(array: NDArray, region: Region): NDArray {
  const shape = regionShape(region);
  if (array.shape.length === 0) return { data: array.data.slice(), shape };
  const data = allocate(dtypeOf(array.data), product(shape));
  const rowLength = shape[shape.length - 1]!;
  forEachRow(
    shape,
    array.shape,
    region.start,
    shape,
    shape.map(() => 0),
    (from, to) => {
      data.set(array.data.subarray(from, from + rowLength), to);
    },
  );
  return { data, shape };
}

/** Copies `data` (C order, the shape of `region`) into `target` at `region`. */
export function insertRegion(target: NDArray, region: Region, data: TypedArray): void {
  const shape = regionShape(region);
  const rowLength = shape[shape.length - 1] ?? 1;
  forEachRow(
    shape,
    shape,
    shape.map(() => 0),
    target.shape,
    region.start,
    (from, to) => {
      target.data.set(data.subarray(from, from + rowLength), to);
    },
  );
}

/** `array` with its axes permuted: axis `i` of the result is axis `perm[i]` of the input. */
export function transpose(array: NDArray, perm: readonly number[]): NDArray {
  if (perm.every((p, i) => p === i)) return array;
  const shape = perm.map((p) => array.shape[p]!);
  const sourceStrides = stridesOf(array.shape);
  const strides = perm.map((p) => sourceStrides[p]!);
  const data = allocate(dtypeOf(array.data), array.data.length);
  const index = new Array<number>(shape.length).fill(0);
  let sourceOffset = 0;
  for (let i = 0; i < data.length; i++) {
    data[i] = array.data[sourceOffset]!;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      sourceOffset += strides[axis]!;
      if (++index[axis]! < shape[axis]!) break;
      sourceOffset -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return { data, shape };
}

/** `array` reordered so its axes follow `STCZYX` (e.g. `YXC` → `CYX`), with the new axes string. */
export function toCanonicalOrder(array: NDArray, axes: string): { array: NDArray; axes: string } {
  const perm = canonicalPermutation(axes);
  return { array: transpose(array, perm), axes: perm.map((p) => axes[p]).join('') };
}
