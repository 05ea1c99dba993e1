import type { AxesRules } from '../config/axes.js';
import { guessAxes, validateAxes } from './axes.js';
import { allocate, dtypeOf } from './dtype.js';
import { IoError } from './errors.js';
import { checkRegion, extractRegion, fullRegion, insertRegion, product, regionShape } from './ndarray.js';
import type { DType, ImageSource, ImageWriter, NDArray, Region, TypedArray } from './types.js';

/**
 * An `ImageSource` over an array already in memory (decoded PNG/NPY/TIFF, or pixels a user passed in). Axes follow
 * CAREamics' rule unless `rules` relax it (prediction takes arrays in any axis order, e.g. `YTX`).
 */
export class ArraySource implements ImageSource {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly axes: string;
  readonly #array: NDArray;

  constructor(
    array: NDArray,
    options: { name?: string; axes?: string; axesHint?: string; rules?: AxesRules } = {},
  ) {
    this.name = options.name ?? '<memory>';
    if (array.data.length !== product(array.shape)) {
      throw new IoError(
        'ShapeMismatch',
        this.name,
        `shape [${array.shape.join(', ')}] needs ${product(array.shape)} elements but data has ${array.data.length}`,
      );
    }
    this.#array = array;
    this.shape = [...array.shape];
    this.dtype = dtypeOf(array.data);
    this.axes =
      options.axes === undefined
        ? guessAxes(array.shape, options.axesHint)
        : validateAxes(options.axes, array.shape, this.name, options.rules);
  }

  async read(region?: Region, options?: { signal?: AbortSignal }): Promise<NDArray> {
    options?.signal?.throwIfAborted();
    if (region === undefined) return { data: this.#array.data.slice(), shape: [...this.shape] };
    checkRegion(region, this.shape, this.name);
    return extractRegion(this.#array, region);
  }
}

/** Reads the whole of a source. */
export function readAll(source: ImageSource, options?: { signal?: AbortSignal }): Promise<NDArray> {
  return source.read(fullRegion(source.shape), options);
}

/**
 * An `ImageWriter` that assembles regions in memory and hands the whole array to `onClose` (e.g. to encode a
 * TIFF). For outputs too large for memory, write OME-Zarr instead.
 */
export class ArrayWriter implements ImageWriter {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly axes: string;
  readonly name: string;
  readonly #array: NDArray;
  readonly #onClose: (array: NDArray) => Promise<void>;
  #finished = false;

  constructor(
    options: { shape: readonly number[]; dtype: DType; axes: string; name?: string; rules?: AxesRules },
    onClose: (array: NDArray) => Promise<void>,
  ) {
    this.name = options.name ?? '<memory>';
    this.axes = validateAxes(options.axes, options.shape, this.name, options.rules);
    this.shape = [...options.shape];
    this.dtype = options.dtype;
    this.#array = { data: allocate(options.dtype, product(options.shape)), shape: [...options.shape] };
    this.#onClose = onClose;
  }

  async write(region: Region, data: TypedArray, options?: { signal?: AbortSignal }): Promise<void> {
    options?.signal?.throwIfAborted();
    if (this.#finished) throw new IoError('ShapeMismatch', this.name, 'write after close or abort');
    checkRegion(region, this.shape, this.name);
    const expected = product(regionShape(region));
    if (data.length !== expected) {
      throw new IoError('ShapeMismatch', this.name, `region needs ${expected} values, got ${data.length}`);
    }
    insertRegion(this.#array, region, data);
  }

  async close(): Promise<void> {
    this.#finished = true;
    await this.#onClose(this.#array);
  }

  async abort(): Promise<void> {
    this.#finished = true;
  }
}
