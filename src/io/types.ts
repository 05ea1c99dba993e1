/** Axis letters in CAREamics order: sample, time, channel, depth, height, width. */
export const AXIS_ORDER = 'STCZYX' as const;
export type Axis = 'S' | 'T' | 'C' | 'Z' | 'Y' | 'X';

export type DType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** A dense n-d array in C order, the currency between io/, data/, prediction/ and the engine. */
export interface NDArray<T extends TypedArray = TypedArray> {
  data: T;
  shape: number[];
}

/** A half-open box `[start, stop)` per axis, in the source's axis order. */
export interface Region {
  start: number[];
  stop: number[];
}

/**
 * Pixels from a file or memory, independent of the format (the role viv's PixelSource plays).
 * Tiling and training read through this interface only.
 */
export interface ImageSource {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** One letter per dimension from `STCZYX`, e.g. `YX`, `ZYX`, `SCZYX`. */
  readonly axes: string;
  read(region?: Region, options?: { signal?: AbortSignal }): Promise<NDArray>;
}

/** Receives regions of an output image, in any order, and is finalised once. */
export interface ImageWriter {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly axes: string;
  write(region: Region, data: TypedArray, options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
  /** Removes anything partially written (called on error or abort). */
  abort(): Promise<void>;
}
