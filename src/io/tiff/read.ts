import { fromArrayBuffer, GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { guessAxes, validateAxes } from '../axes.js';
import type { ChunkedSource } from '../chunks.js';
import { allocate, bytesPerElement } from '../dtype.js';
import { allocating, assertDecodable, assertPlausibleShape, IoError, isIoError } from '../errors.js';
import { checkRegion, product, regionShape, stridesOf } from '../ndarray.js';
import { AXIS_ORDER, type DType, type NDArray, type Region } from '../types.js';
import { type ByteInput, byteLength, readTiffStructure } from './ifd.js';
import { pageLayoutFromDescription, shapedPageSizes } from './metadata.js';
import { fixBigEndianHorizontalPredictor } from './predictor.js';

/** Compression codes geotiff decodes: none, LZW, Deflate (new and old code), PackBits, JPEG, LERC, Zstd, WebP. */
const DECODABLE_COMPRESSION = new Set([1, 5, 7, 8, 32946, 32773, 34887, 50000, 50001]);

const DTYPE_OF_FORMAT: Record<number, Record<number, DType>> = {
  1: { 8: 'uint8', 16: 'uint16', 32: 'uint32' },
  2: { 8: 'int8', 16: 'int16', 32: 'int32' },
  3: { 32: 'float32', 64: 'float64' },
};

/** One leading (non-YX) dimension: either a run of pages (`pageStride`) or the samples inside each pixel. */
interface LeadingDim {
  axis: string;
  size: number;
  pageStride: number | 'sample';
}

/** geotiff's exceptions say "Offset is outside the bounds…" and the like; turn them into tagged errors. */
function wrapGeotiffError(cause: unknown, file: string, doing: string): IoError {
  if (isIoError(cause)) return cause;
  const problem = cause instanceof Error ? cause.message : String(cause);
  const truncated = cause instanceof RangeError || /bounds|out of range|beyond|offset/i.test(problem);
  return new IoError(truncated ? 'TruncatedFile' : 'CorruptData', file, `${doing}: ${problem}`, { cause });
}

function pageDtype(image: GeoTIFFImage, file: string): DType {
  const format = image.getSampleFormat(0) ?? 1;
  const bits = image.getBitsPerSample(0);
  const dtype = DTYPE_OF_FORMAT[format]?.[bits];
  if (dtype === undefined)
    throw new IoError('UnsupportedDtype', file, `TIFF sample format ${format} with ${bits} bits`);
  return dtype;
}

/**
 * The non-YX dimensions as presented, and the axes they suggest. Named by ImageJ/OME metadata, they are sorted
 * into STCZYX order (pages are located by stride, whatever order they are stored in); unnamed, they keep file
 * order (so explicit axes describe the file) with samples per pixel first, as channels.
 */
function leadingDims(
  description: string | undefined,
  pages: number,
  samples: number,
  mayReorder: boolean,
  file: string,
): { dims: LeadingDim[]; axesHint: string | undefined } {
  const layout = pageLayoutFromDescription(description);
  const named = layout !== undefined && product(layout.sizes) === pages;
  const sizes = named ? layout.sizes : (shapedPageSizes(description, pages) ?? (pages > 1 ? [pages] : []));
  const strides = stridesOf(sizes);
  const dims: LeadingDim[] = sizes.map((size, i) => ({
    axis: named ? layout.axes[i]! : '?',
    size,
    pageStride: strides[i]!,
  }));
  const sampleDims: LeadingDim[] = samples > 1 ? [{ axis: 'C', size: samples, pageStride: 'sample' }] : [];
  if (!named) {
    const pageAxes = guessAxes([...sizes, 1, 1]).slice(0, -2);
    return { dims: [...sampleDims, ...dims], axesHint: `${samples > 1 ? 'C' : ''}${pageAxes}YX` };
  }
  const all = [...dims, ...sampleDims];
  if (new Set(all.map((d) => d.axis)).size !== all.length) {
    throw new IoError(
      'UnsupportedFormat',
      file,
      'both the metadata and the samples per pixel declare channels',
    );
  }
  if (mayReorder) all.sort((a, b) => AXIS_ORDER.indexOf(a.axis) - AXIS_ORDER.indexOf(b.axis));
  return { dims: all, axesHint: `${all.map((d) => d.axis).join('')}YX` };
}

/** What the header walk and the first IFD tell about the whole file. */
interface TiffFileFacts {
  pages: number;
  littleEndian: boolean;
  description: string | undefined;
  predictor: number;
  /** File size in bytes. */
  size: number;
}

/** Below this many rows a strip is read together with its neighbours as one chunk (tifffile writes 1-row strips). */
const MIN_CHUNK_ROWS = 64;

/**
 * Pixels of a (multi-page) TIFF, pages decoded on demand by geotiff: a region read decodes only the tiles or strips
 * it overlaps. As a `ChunkedSource`, a chunk is one tile (or a run of strips) of one plane.
 */
export class TiffSource implements ChunkedSource {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly axes: string;
  readonly chunkShape: readonly number[];
  /** True for tiled files, false for strips. */
  readonly #tiled: boolean;
  readonly #tiff: GeoTIFF;
  readonly #ifdCount: number;
  readonly #leading: LeadingDim[];
  readonly #pages = new Map<number, Promise<GeoTIFFImage>>();
  /** Set when geotiff's predictor handling needs fixing (see `fixBigEndianHorizontalPredictor`). */
  readonly #predictorBlockWidth: number | undefined;

  constructor(name: string, tiff: GeoTIFF, first: GeoTIFFImage, file: TiffFileFacts, axes?: string) {
    const { pages: ifdCount, littleEndian, description } = file;
    this.name = name;
    this.#tiff = tiff;
    this.#ifdCount = ifdCount;
    this.dtype = pageDtype(first, name);
    const compression = Number(first.getFileDirectory().getValue('Compression') ?? 1);
    if (!DECODABLE_COMPRESSION.has(compression)) {
      throw new IoError(
        'UnsupportedCompression',
        name,
        `TIFF compression code ${compression} is not supported`,
      );
    }
    const samples = first.getSamplesPerPixel();
    const wrongPredictor = !littleEndian && file.predictor === 2 && first.getBitsPerSample(0) > 8;
    if (wrongPredictor && samples > 1) {
      throw new IoError(
        'UnsupportedCompression',
        name,
        'big-endian multi-sample TIFF with a horizontal predictor',
      );
    }
    this.#predictorBlockWidth = wrongPredictor ? first.getTileWidth() : undefined;
    const { dims, axesHint } = leadingDims(description, ifdCount, samples, axes === undefined, name);
    const planeShape = [first.getHeight(), first.getWidth()];
    assertDecodable(product(planeShape) * samples * bytesPerElement(this.dtype), file.size, name);
    this.#leading = dims;
    this.shape = [...dims.map((d) => d.size), ...planeShape];
    this.#tiled = first.isTiled;
    const tileHeight = Math.min(first.getTileHeight(), planeShape[0]!);
    const chunkRows = this.#tiled ? tileHeight : tileHeight * Math.ceil(MIN_CHUNK_ROWS / tileHeight);
    this.chunkShape = [...dims.map(() => 1), chunkRows, this.#tiled ? first.getTileWidth() : planeShape[1]!];
    assertPlausibleShape(this.shape, name);
    this.axes = axes === undefined ? guessAxes(this.shape, axesHint) : validateAxes(axes, this.shape, name);
    if (!this.axes.endsWith('YX')) {
      throw new IoError(
        'AxesMismatch',
        name,
        `axes "${this.axes}": TIFF pages are YX planes, so axes must end with YX`,
      );
    }
  }

  #page(index: number): Promise<GeoTIFFImage> {
    let page = this.#pages.get(index);
    if (page === undefined) {
      page = this.#tiff.getImage(index);
      this.#pages.set(index, page);
    }
    return page;
  }

  chunkName(index: readonly number[]): string {
    const rank = index.length;
    const [row, column] = [index[rank - 2]!, index[rank - 1]!];
    const leading = index.slice(0, -2).map((i, d) => `${this.#leading[d]!.axis}=${i}`);
    const where = leading.length > 0 ? ` of plane ${leading.join(', ')}` : '';
    return this.#tiled
      ? `tile row ${row}, column ${column}${where}`
      : `strips from row ${row * this.chunkShape[rank - 2]!}${where}`;
  }

  /** One chunk, clipped to the image (geotiff decodes only the tiles or strips inside it). */
  async readChunk(index: readonly number[], options?: { signal?: AbortSignal }): Promise<NDArray> {
    const start = index.map((c, i) => c * this.chunkShape[i]!);
    const stop = start.map((s, i) => Math.min(this.shape[i]!, s + this.chunkShape[i]!));
    try {
      return await this.read({ start, stop }, options);
    } catch (cause) {
      if (!isIoError(cause) || options?.signal?.aborted) throw cause;
      throw new IoError(cause._tag, this.name, `${this.chunkName(index)}: ${cause.problem}`, { cause });
    }
  }

  async read(region?: Region, options?: { signal?: AbortSignal }): Promise<NDArray> {
    const box = region ?? { start: this.shape.map(() => 0), stop: [...this.shape] };
    checkRegion(box, this.shape, this.name);
    const shape = regionShape(box);
    const out = allocating(this.name, `[${shape}] ${this.dtype}`, () => allocate(this.dtype, product(shape)));
    const rank = this.shape.length;
    const window = [box.start[rank - 1]!, box.start[rank - 2]!, box.stop[rank - 1]!, box.stop[rank - 2]!];
    const planeSize = shape[rank - 1]! * shape[rank - 2]!;
    const leadingBox = shape.slice(0, -2);
    const count = product(leadingBox);
    if (planeSize === 0) return { data: out, shape };
    for (let flat = 0; flat < count; flat++) {
      options?.signal?.throwIfAborted();
      let page = 0;
      let sample = 0;
      let rest = flat;
      for (let d = leadingBox.length - 1; d >= 0; d--) {
        const index = box.start[d]! + (rest % leadingBox[d]!);
        rest = Math.floor(rest / leadingBox[d]!);
        const { pageStride } = this.#leading[d]!;
        if (pageStride === 'sample') sample = index;
        else page += index * pageStride;
      }
      out.set(await this.#readPlane(page, sample, window, options?.signal), flat * planeSize);
    }
    return { data: out, shape };
  }

  async #readPlane(page: number, sample: number, window: number[], signal?: AbortSignal) {
    if (page >= this.#ifdCount) throw new IoError('TruncatedFile', this.name, `page ${page} is missing`);
    try {
      const image = await this.#page(page);
      if (image.getWidth() !== this.shape.at(-1) || image.getHeight() !== this.shape.at(-2)) {
        throw new IoError(
          'ShapeMismatch',
          this.name,
          `page ${page} is ${image.getHeight()}×${image.getWidth()}, unlike page 0`,
        );
      }
      const width = image.getWidth();
      if (this.#predictorBlockWidth === undefined) {
        const [plane] = await image.readRasters({ window, samples: [sample], interleave: false, signal });
        return plane!;
      }
      // The fix needs whole rows (sums start at each block's left edge); crop to the window afterwards.
      const [x0, y0, x1, y1] = window as [number, number, number, number];
      const [rows] = await image.readRasters({
        window: [0, y0, width, y1],
        samples: [sample],
        interleave: false,
        signal,
      });
      fixBigEndianHorizontalPredictor(rows!, width, this.#predictorBlockWidth);
      const cropped = allocate(this.dtype, (x1 - x0) * (y1 - y0));
      for (let y = 0; y < y1 - y0; y++)
        cropped.set(rows!.subarray(y * width + x0, y * width + x1), y * (x1 - x0));
      return cropped;
    } catch (cause) {
      throw wrapGeotiffError(cause, this.name, `cannot decode page ${page}`);
    }
  }
}

/** The bytes as a whole ArrayBuffer, copying only when `bytes` is a view into a larger one. */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
}

/**
 * A geotiff byte source reading ranges of a `Blob` with `Blob.slice`: geotiff's own `fromBlob` needs the
 * browser-only `FileReader`, while this works in browsers and with Node's `fs.openAsBlob` alike.
 */
function blobSource(blob: Blob) {
  const fetchSlice = async (slice: { offset: number; length: number }) => ({
    ...slice,
    data: await blob.slice(slice.offset, slice.offset + slice.length).arrayBuffer(),
  });
  return {
    fileSize: blob.size,
    fetchSlice,
    fetch: (slices: { offset: number; length: number }[]) =>
      Promise.all(slices.map(async (slice) => (await fetchSlice(slice)).data)),
    close: async () => undefined,
  };
}

/**
 * Opens a TIFF (classic or BigTIFF, either byte order) as an `ImageSource`. Axes come from `axes`, else from
 * ImageJ/OME metadata, else a guess from the shape.
 */
export async function openTiff(
  input: ByteInput,
  options: { name?: string; axes?: string } = {},
): Promise<TiffSource> {
  const name = options.name ?? '<memory>';
  const { ifdOffsets, littleEndian } = await readTiffStructure(input, name);
  let tiff: GeoTIFF;
  let first: GeoTIFFImage;
  let description: string | undefined;
  let predictor = 1;
  try {
    tiff =
      input instanceof Uint8Array
        ? await fromArrayBuffer(ownBuffer(input))
        : await GeoTIFF.fromSource(blobSource(input) as never);
    first = await tiff.getImage(0);
    const text = await first.getFileDirectory().loadValue('ImageDescription');
    description = typeof text === 'string' ? text : undefined;
    predictor = Number((await first.getFileDirectory().loadValue('Predictor')) ?? 1);
  } catch (cause) {
    throw wrapGeotiffError(cause, name, 'cannot read the TIFF header');
  }
  return new TiffSource(
    name,
    tiff,
    first,
    { pages: ifdOffsets.length, littleEndian, description, predictor, size: byteLength(input) },
    options.axes,
  );
}
