/**
 * OME-Zarr (NGFF 0.4 on Zarr v2, NGFF 0.5 on Zarr v3) through zarrita: reads touch only the chunks a region
 * overlaps, and the writer stores regions chunk by chunk, so images larger than memory stream through.
 */
import * as zarr from 'zarrita';
import { guessAxes, validateAxes } from './axes.js';
import { type ChunkedSource, readByChunks } from './chunks.js';
import { allocate, bytesPerElement, isDType } from './dtype.js';
import { assertPlausibleShape, IoError } from './errors.js';
import { checkRegion, product, regionShape, stridesOf } from './ndarray.js';
import type { DType, ImageWriter, NDArray, Region, TypedArray } from './types.js';

type ZarrArray = zarr.Array<zarr.DataType, zarr.Readable>;

interface NgffAxis {
  name: string;
  type?: string;
}

interface Multiscale {
  axes?: (NgffAxis | string)[];
  datasets?: { path: string }[];
}

/** NGFF puts multiscales at the top of the attributes (0.4) or under `ome` (0.5). */
function multiscalesOf(attrs: Record<string, unknown>): Multiscale | undefined {
  const ome = attrs['ome'] as { multiscales?: Multiscale[] } | undefined;
  const list = ome?.multiscales ?? (attrs['multiscales'] as Multiscale[] | undefined);
  return list?.[0];
}

/** A C-order copy of a strided chunk (zarrita returns F-order strides for `order: "F"` arrays). */
function toCOrder(chunk: { data: TypedArray; shape: number[]; stride: number[] }, dtype: DType): TypedArray {
  const wanted = stridesOf(chunk.shape);
  if (chunk.stride.every((s, i) => s === wanted[i] || chunk.shape[i] === 1)) return chunk.data;
  const out = allocate(dtype, product(chunk.shape));
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    let from = 0;
    for (let d = chunk.shape.length - 1; d >= 0; d--) {
      from += (rest % chunk.shape[d]!) * chunk.stride[d]!;
      rest = Math.floor(rest / chunk.shape[d]!);
    }
    out[flat] = chunk.data[from]!;
  }
  return out;
}

function toSelection(region: Region) {
  return region.start.map((start, i) => zarr.slice(start, region.stop[i]!));
}

/** The full-resolution level of an OME-Zarr image (or a bare Zarr array) as an `ImageSource`. */
export class ZarrSource implements ChunkedSource {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly axes: string;
  readonly #array: ZarrArray;

  constructor(name: string, array: ZarrArray, axes: string) {
    this.name = name;
    this.#array = array;
    this.shape = [...array.shape];
    if (!isDType(array.dtype)) throw new IoError('UnsupportedDtype', name, `Zarr dtype ${array.dtype}`);
    this.dtype = array.dtype;
    this.axes = axes;
  }

  get chunkShape(): readonly number[] {
    return this.#array.chunks;
  }

  chunkName(index: readonly number[]): string {
    return `chunk [${index.join(', ')}] of array ${this.#array.path}`;
  }

  /**
   * One chunk, decoded: the full chunk shape (edge chunks come padded with the fill value). A chunk that fails to
   * decode, or decodes to the wrong number of values (zarrita hands back what a codec returned, even nothing),
   * is a `CorruptData` error naming it.
   */
  async readChunk(index: readonly number[], options?: { signal?: AbortSignal }): Promise<NDArray> {
    const fail = (problem: string, cause?: unknown) =>
      new IoError('CorruptData', this.name, `cannot decode ${this.chunkName(index)}: ${problem}`, { cause });
    let chunk: { data: TypedArray; shape: number[]; stride: number[] };
    try {
      chunk = (await this.#array.getChunk([...index], { signal: options?.signal })) as typeof chunk;
    } catch (cause) {
      if (options?.signal?.aborted) throw cause;
      throw fail(cause instanceof Error ? cause.message : String(cause), cause);
    }
    if (chunk.data.length !== product(chunk.shape)) {
      throw fail(
        `it holds ${chunk.data.length} values, the chunk shape [${chunk.shape}] needs ${product(chunk.shape)}`,
      );
    }
    return { data: toCOrder(chunk, this.dtype), shape: [...chunk.shape] };
  }

  /** Reads chunk by chunk, so a chunk that is corrupt is named instead of read as zeros. */
  read(region?: Region, options?: { signal?: AbortSignal }): Promise<NDArray> {
    return readByChunks(this, region, (index) => this.readChunk(index, options));
  }
}

/**
 * Opens an OME-Zarr image (its first multiscale's first dataset) or a bare array from any zarrita store.
 * Axes: `axes` if given, else the NGFF axis names, else a guess from the shape.
 */
export async function openOmeZarr(
  store: zarr.Readable,
  options: { name?: string; axes?: string } = {},
): Promise<ZarrSource> {
  const name = options.name ?? '<zarr>';
  const root = zarr.root(store);
  let node: Awaited<ReturnType<typeof zarr.open>>;
  try {
    node = await zarr.open(root);
  } catch (cause) {
    throw new IoError('BadMagic', name, 'no Zarr v2 or v3 group or array metadata found', { cause });
  }
  let array: ZarrArray;
  let ngffAxes: string | undefined;
  if (node.kind === 'array') array = node;
  else {
    const multiscale = multiscalesOf(node.attrs);
    const path = multiscale?.datasets?.[0]?.path;
    if (path === undefined)
      throw new IoError('MalformedHeader', name, 'the Zarr group has no NGFF multiscales dataset');
    array = await zarr.open(root.resolve(path), { kind: 'array' });
    ngffAxes = multiscale?.axes?.map((a) => (typeof a === 'string' ? a : a.name).toUpperCase()).join('');
  }
  assertPlausibleShape(array.shape, name);
  const axes =
    options.axes !== undefined
      ? validateAxes(options.axes, array.shape, name)
      : guessAxes(array.shape, ngffAxes);
  return new ZarrSource(name, array, axes);
}

const NGFF_TYPE: Record<string, string> = { T: 'time', C: 'channel', Z: 'space', Y: 'space', X: 'space' };

const V2_DTYPE: Record<DType, string> = {
  uint8: '|u1',
  int8: '|i1',
  uint16: '<u2',
  int16: '<i2',
  uint32: '<u4',
  int32: '<i4',
  float32: '<f4',
  float64: '<f8',
};

export interface OmeZarrWriteOptions {
  shape: readonly number[];
  dtype: DType;
  axes: string;
  name?: string;
  /** Chunk shape; default 256 along Y and X, 32 along Z, 1 elsewhere (clipped to the shape). */
  chunks?: readonly number[];
  /** Zarr format: 3 (NGFF 0.5, default) or 2 (NGFF 0.4). */
  version?: 2 | 3;
  /** Physical pixel size per axis for the NGFF `scale` transform; default 1. */
  scale?: readonly number[];
  /** Compress chunks with Blosc-LZ4, zarr-python's default (default true). */
  compress?: boolean;
  /** Called by `abort()` to remove what was written (the Node writer deletes its temp folder). */
  onAbort?: () => Promise<void>;
  /** Called by `close()` once all writes are done (the Node writer renames the temp folder into place). */
  onClose?: () => Promise<void>;
}

function defaultChunks(shape: readonly number[], axes: string): number[] {
  const limit: Record<string, number> = { Y: 256, X: 256, Z: 32 };
  return shape.map((size, i) => Math.max(1, Math.min(size, limit[axes[i]!] ?? 1)));
}

function ngffMultiscale(axes: string, scale: readonly number[], name: string, version: string) {
  return {
    version,
    name,
    axes: [...axes].map((a) => ({ name: a.toLowerCase(), ...(NGFF_TYPE[a] ? { type: NGFF_TYPE[a] } : {}) })),
    datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [...scale] }] }],
  };
}

const encodeJson = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2));

/** Writer options with every default filled in. */
type ResolvedOptions = Required<Omit<OmeZarrWriteOptions, 'onAbort' | 'onClose' | 'chunks'>> & {
  chunks: number[];
};

/** Writes the NGFF group metadata and creates dataset "0" (v3 through zarrita; v2 metadata by hand, as zarrita only creates v3). */
async function createArray(store: zarr.Mutable, o: ResolvedOptions) {
  const root = zarr.root(store);
  if (o.version === 3) {
    await zarr.create(root, {
      attributes: { ome: { version: '0.5', multiscales: [ngffMultiscale(o.axes, o.scale, o.name, '0.5')] } },
    });
    const blosc = {
      name: 'blosc',
      configuration: {
        cname: 'lz4',
        clevel: 5,
        shuffle: 'shuffle',
        typesize: bytesPerElement(o.dtype),
        blocksize: 0,
      },
    };
    const codecs: zarr.CodecMetadata[] = [{ name: 'bytes', configuration: { endian: 'little' } }];
    if (o.compress) codecs.push(blosc);
    return zarr.create(root.resolve('0'), {
      shape: [...o.shape],
      chunkShape: o.chunks,
      dtype: o.dtype,
      codecs,
      fillValue: 0,
      dimensionNames: [...o.axes.toLowerCase()],
    });
  }
  await store.set('/.zgroup', encodeJson({ zarr_format: 2 }));
  await store.set('/.zattrs', encodeJson({ multiscales: [ngffMultiscale(o.axes, o.scale, o.name, '0.4')] }));
  await store.set(
    '/0/.zarray',
    encodeJson({
      zarr_format: 2,
      shape: o.shape,
      chunks: o.chunks,
      dtype: V2_DTYPE[o.dtype],
      compressor: o.compress ? { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 } : null,
      fill_value: 0,
      order: 'C',
      filters: null,
      dimension_separator: '/',
    }),
  );
  return zarr.open.v2(root.resolve('0'), { kind: 'array' });
}

/** Writes an OME-Zarr image region by region; only the chunks a region touches are read and rewritten. */
export class OmeZarrWriter implements ImageWriter {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly axes: string;
  readonly name: string;
  /** Chunk shape: regions made of whole chunks never share one, so separate writers may write them at once. */
  readonly chunks: readonly number[];
  readonly #array: zarr.Array<zarr.DataType, zarr.Mutable>;
  readonly #options: OmeZarrWriteOptions;
  /** Writes are chained: two regions sharing a chunk must not read-modify-write it concurrently. */
  #queue: Promise<void> = Promise.resolve();

  constructor(array: zarr.Array<zarr.DataType, zarr.Mutable>, options: OmeZarrWriteOptions) {
    this.#array = array;
    this.#options = options;
    this.chunks = [...array.chunks];
    this.shape = [...options.shape];
    this.dtype = options.dtype;
    this.axes = options.axes;
    this.name = options.name ?? '<zarr>';
  }

  async write(region: Region, data: TypedArray, options?: { signal?: AbortSignal }): Promise<void> {
    checkRegion(region, this.shape, this.name);
    const shape = regionShape(region);
    if (data.length !== product(shape)) {
      throw new IoError(
        'ShapeMismatch',
        this.name,
        `region [${shape}] needs ${product(shape)} values, got ${data.length}`,
      );
    }
    const chunk = { data, shape, stride: stridesOf(shape) } as zarr.Chunk<zarr.DataType>;
    const next = this.#queue.then(() =>
      zarr.set(this.#array, toSelection(region), chunk, { signal: options?.signal }),
    );
    this.#queue = next.catch(() => undefined);
    await next;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#options.onClose?.();
  }

  async abort(): Promise<void> {
    await this.#queue;
    await this.#options.onAbort?.();
  }
}

/** Creates an OME-Zarr image in `store` (NGFF metadata, one full-resolution dataset "0") and returns its writer. */
export async function createOmeZarr(
  store: zarr.Mutable,
  options: OmeZarrWriteOptions,
): Promise<OmeZarrWriter> {
  const name = options.name ?? '<zarr>';
  const axes = validateAxes(options.axes, options.shape, name);
  assertPlausibleShape(options.shape, name);
  const array = await createArray(store, {
    shape: options.shape,
    dtype: options.dtype,
    axes,
    name,
    chunks: [...(options.chunks ?? defaultChunks(options.shape, axes))],
    version: options.version ?? 3,
    scale: options.scale ?? options.shape.map(() => 1),
    compress: options.compress ?? true,
  });
  return new OmeZarrWriter(array as zarr.Array<zarr.DataType, zarr.Mutable>, { ...options, axes });
}

/**
 * A writer onto an OME-Zarr image that already exists in `store` (created by `createOmeZarr`, maybe in another
 * process): for writing some of its regions. `close()` only waits for the writes.
 */
export async function openOmeZarrWriter(store: zarr.Mutable, name = '<zarr>'): Promise<OmeZarrWriter> {
  const source = await openOmeZarr(store as zarr.Readable, { name });
  const root = zarr.root(store);
  const node = await zarr.open(root);
  const path = node.kind === 'array' ? undefined : multiscalesOf(node.attrs)?.datasets?.[0]?.path;
  const array = path === undefined ? node : await zarr.open(root.resolve(path), { kind: 'array' });
  if (!isDType(source.dtype)) throw new IoError('UnsupportedDtype', name, `Zarr dtype ${source.dtype}`);
  return new OmeZarrWriter(array as zarr.Array<zarr.DataType, zarr.Mutable>, {
    shape: source.shape,
    dtype: source.dtype,
    axes: source.axes,
    name,
  });
}
