/**
 * Region reads through a bounded cache of decoded chunks: out-of-core training reads thousands of small patches
 * from files far larger than memory, and neighbouring patches share chunks, so each chunk is decoded once while
 * it is in use and memory stays under a fixed number of bytes whatever the size of the files.
 */
import { allocate } from './dtype.js';
import { allocating } from './errors.js';
import { checkRegion, copyBox, product, regionShape } from './ndarray.js';
import type { DType, ImageSource, NDArray, Region } from './types.js';

/**
 * A source stored in chunks of a regular grid (Zarr chunks, TIFF tiles or strips) that can decode one of them.
 * `readChunk` returns an array whose corner is `index × chunkShape`; it may extend past the image (Zarr's edge
 * chunks are padded), never fall short of it.
 */
export interface ChunkedSource extends ImageSource {
  readonly chunkShape: readonly number[];
  readChunk(index: readonly number[], options?: { signal?: AbortSignal }): Promise<NDArray>;
  /** How the file names the chunk at `index`, for error messages (e.g. `chunk 0/c/3/1/2`, `page 4, strip 7`). */
  chunkName(index: readonly number[]): string;
}

export function isChunkedSource(source: ImageSource): source is ChunkedSource {
  return 'chunkShape' in source && typeof (source as ChunkedSource).readChunk === 'function';
}

interface CacheEntry {
  value: Promise<NDArray>;
  /** Decoded size once the chunk has arrived; 0 while it is in flight (then it cannot be evicted). */
  bytes: number;
}

/**
 * A least-recently-used cache of decoded chunks, bounded by their bytes. A chunk being decoded is shared by every
 * reader that needs it meanwhile (one decode, however many patches overlap it); a chunk larger than the whole
 * capacity is handed out but not kept. Decoding chunks in flight are not counted until they arrive.
 */
export class ChunkCache {
  readonly #entries = new Map<string, CacheEntry>();
  #bytes = 0;
  /** The most bytes held at once, and how often a chunk was found or had to be decoded. */
  peakBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacityBytes: number) {
    if (!(capacityBytes >= 0)) throw new RangeError(`cache capacity must be ≥ 0 bytes, got ${capacityBytes}`);
  }

  /** Bytes of the chunks held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string, load: () => Promise<NDArray>): Promise<NDArray> {
    const entry = this.#entries.get(key);
    if (entry) {
      this.hits++;
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      return entry.value;
    }
    this.misses++;
    const fresh: CacheEntry = { value: load(), bytes: 0 };
    this.#entries.set(key, fresh);
    fresh.value.then(
      (array) => {
        if (this.#entries.get(key) !== fresh) return;
        const bytes = array.data.byteLength;
        if (bytes > this.capacityBytes) {
          this.#entries.delete(key);
          return;
        }
        fresh.bytes = bytes;
        this.#bytes += bytes;
        this.#evict();
        this.peakBytes = Math.max(this.peakBytes, this.#bytes);
      },
      () => {
        if (this.#entries.get(key) === fresh) this.#entries.delete(key);
      },
    );
    return fresh.value;
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.capacityBytes) return;
      if (entry.bytes === 0) continue;
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

/** What `readByChunks` needs of a source: its geometry and its chunk grid. */
type ChunkGrid = Pick<ChunkedSource, 'name' | 'shape' | 'dtype' | 'chunkShape'>;

/**
 * Assembles `region` from the chunks it overlaps, fetched concurrently with `chunkAt` (a decoder, or a cache in
 * front of one). Each chunk's corner is `index × chunkShape`; the chunk may be padded beyond the image.
 */
export async function readByChunks(
  grid: ChunkGrid,
  region: Region | undefined,
  chunkAt: (index: number[]) => Promise<NDArray>,
): Promise<NDArray> {
  const box = region ?? { start: grid.shape.map(() => 0), stop: [...grid.shape] };
  checkRegion(box, grid.shape, grid.name);
  const shape = regionShape(box);
  const out: NDArray = allocating(grid.name, `[${shape}] ${grid.dtype}`, () => ({
    data: allocate(grid.dtype, product(shape)),
    shape,
  }));
  if (product(shape) === 0) return out;
  const { chunkShape } = grid;
  const first = box.start.map((s, i) => Math.floor(s / chunkShape[i]!));
  const last = box.stop.map((s, i) => Math.floor((s - 1) / chunkShape[i]!));
  const indices: number[][] = [];
  const visit = (axis: number, prefix: number[]) => {
    if (axis === first.length) indices.push(prefix);
    else for (let c = first[axis]!; c <= last[axis]!; c++) visit(axis + 1, [...prefix, c]);
  };
  visit(0, []);
  await Promise.all(
    indices.map(async (index) => {
      const chunk = await chunkAt(index);
      const origin = index.map((c, i) => c * chunkShape[i]!);
      const lo = box.start.map((s, i) => Math.max(s, origin[i]!));
      const hi = box.stop.map((s, i) => Math.min(s, origin[i]! + chunkShape[i]!));
      copyBox(
        chunk,
        lo.map((l, i) => l - origin[i]!),
        out,
        lo.map((l, i) => l - box.start[i]!),
        hi.map((h, i) => h - lo[i]!),
      );
    }),
  );
  return out;
}

let nextSourceId = 0;

/**
 * An `ImageSource` reading `source` chunk by chunk through `cache` (which may be shared by several sources). A
 * chunk that fails to decode fails the read with the source's error, which names the file and the chunk.
 */
export class CachedSource implements ImageSource {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly axes: string;
  readonly chunkShape: readonly number[];
  readonly #id = nextSourceId++;

  constructor(
    readonly source: ChunkedSource,
    readonly cache: ChunkCache,
  ) {
    this.name = source.name;
    this.shape = source.shape;
    this.dtype = source.dtype;
    this.axes = source.axes;
    this.chunkShape = source.chunkShape;
  }

  read(region?: Region, options?: { signal?: AbortSignal }): Promise<NDArray> {
    return readByChunks(this, region, (index) =>
      this.cache.get(`${this.#id}:${index.join(',')}`, () =>
        this.source.readChunk(index, { signal: options?.signal }),
      ),
    );
  }
}
