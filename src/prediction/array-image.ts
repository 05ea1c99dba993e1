import { CareamicsError } from '../errors.js';
import { allocate, dtypeOf } from '../io/dtype.js';
import { checkRegion, product, stridesOf } from '../io/ndarray.js';
import type { DType, ImageSource, ImageWriter, NDArray, Region, TypedArray } from '../io/types.js';
import { copyStrided, rangeOffsets } from './layout.js';
import type { AxesArray } from './types.js';

const INTEGER_RANGE: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
};

/** Converts float32 values to `dtype`; integers are rounded to nearest and clipped to the type's range. */
export function castFloat32(data: Float32Array, dtype: DType): TypedArray {
  if (dtype === 'float32') return data;
  const out = allocate(dtype, data.length);
  const range = INTEGER_RANGE[dtype];
  if (range === undefined) {
    out.set(data);
    return out;
  }
  const [lo, hi] = range;
  for (let i = 0; i < data.length; i++) out[i] = Math.min(hi, Math.max(lo, Math.round(data[i]!)));
  return out;
}

/**
 * An `ImageSource` over an array in memory, so `predict` and `predictToWriter` share one code path. Not io's
 * `ArraySource`: prediction takes any axis order (a writer may want `XY…` or `YTX`), which io's CAREamics axes
 * validation rightly refuses for files.
 */
export function arraySource(array: AxesArray, name = '<memory>'): ImageSource {
  if (array.data.length !== product(array.shape) || array.axes.length !== array.shape.length) {
    throw new CareamicsError(
      'ShapeMismatch',
      `${name}: shape [${array.shape.join(', ')}] with axes "${array.axes}" does not fit ${array.data.length} values`,
    );
  }
  const strides = stridesOf(array.shape);
  return {
    name,
    shape: [...array.shape],
    dtype: dtypeOf(array.data),
    axes: array.axes.toUpperCase(),
    async read(region?: Region, options?: { signal?: AbortSignal }): Promise<NDArray> {
      options?.signal?.throwIfAborted();
      const box = region ?? { start: array.shape.map(() => 0), stop: [...array.shape] };
      checkRegion(box, array.shape, name);
      const shape = box.stop.map((stop, i) => stop - box.start[i]!);
      const data = allocate(dtypeOf(array.data), product(shape));
      const outStrides = stridesOf(shape);
      copyStrided(
        array.data,
        shape.map((len, i) => rangeOffsets(box.start[i]!, len, strides[i]!)),
        data,
        shape.map((len, i) => rangeOffsets(0, len, outStrides[i]!)),
      );
      return { data, shape };
    },
  };
}

/** An `ImageWriter` that assembles the image in memory; `result()` returns it once closed. */
export function arrayWriter(
  axes: string,
  shape: readonly number[],
  dtype: DType,
): ImageWriter & { result(): AxesArray } {
  const data = allocate(dtype, product(shape));
  const strides = stridesOf(shape);
  let state: 'open' | 'closed' | 'aborted' = 'open';
  return {
    axes,
    shape: [...shape],
    dtype,
    async write(region: Region, values: TypedArray): Promise<void> {
      checkRegion(region, shape, '<memory writer>');
      const box = region.stop.map((stop, i) => stop - region.start[i]!);
      const boxStrides = stridesOf(box);
      copyStrided(
        values,
        box.map((len, i) => rangeOffsets(0, len, boxStrides[i]!)),
        data,
        box.map((len, i) => rangeOffsets(region.start[i]!, len, strides[i]!)),
      );
    },
    async close(): Promise<void> {
      state = 'closed';
    },
    async abort(): Promise<void> {
      state = 'aborted';
    },
    result(): AxesArray {
      if (state !== 'closed') throw new CareamicsError('WriterNotClosed', `the prediction was ${state}`);
      return { data, shape: [...shape], axes };
    },
  };
}
