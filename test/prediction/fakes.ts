import type { ImageSource, ImageWriter, NDArray, Region, TypedArray } from '../../src/io/types.js';
import type { PredictFn } from '../../src/prediction/index.js';

/** Throws like a UNet would if a tile is not a multiple of `2**depth` or has the wrong channel count. */
export function checkTileShape(shape: number[], depth: number, channels: number): void {
  const multiple = 2 ** depth;
  if (shape[1] !== channels || shape.slice(2).some((s) => s % multiple !== 0)) {
    throw new Error(`model got an invalid tile shape [${shape.join(', ')}]`);
  }
}

/** Returns its input, after checking the tile shape. */
export function identityModel(depth = 0, channels = 1): PredictFn {
  return async (batch, shape) => {
    checkTileShape(shape, depth, channels);
    return { data: batch.slice(), shape: [...shape] };
  };
}

/** Applies `f` to every value (pointwise, so it commutes with any rotation or flip). */
export function pointwiseModel(f: (x: number) => number): PredictFn {
  return async (batch, shape) => ({ data: batch.map(f), shape: [...shape] });
}

/** Mean over a (2r+1)^d box on the spatial axes of a (B, C, ...spatial) array, zero outside. */
export function boxFilter(data: Float32Array, shape: readonly number[], radius: number): Float32Array {
  let current = Float32Array.from(data);
  let inner = 1;
  for (let axis = shape.length - 1; axis >= 2; axis--) {
    const size = shape[axis]!;
    const outer = data.length / (size * inner);
    const next = new Float32Array(data.length);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const base = o * size * inner + k;
        for (let i = 0; i < size; i++) {
          let acc = 0;
          for (let t = Math.max(0, i - radius); t <= Math.min(size - 1, i + radius); t++) {
            acc += current[base + t * inner]!;
          }
          next[base + i * inner] = acc / (2 * radius + 1);
        }
      }
    }
    current = next;
    inner *= size;
  }
  return current;
}

export function boxModel(radius: number): PredictFn {
  return async (batch, shape) => ({ data: boxFilter(batch, shape, radius), shape: [...shape] });
}

/** Difference with the left neighbour along X: not invariant under rotations or flips. */
export const gradientXModel: PredictFn = async (batch, shape) => {
  const w = shape[shape.length - 1]!;
  const out = batch.map((v, i) => (i % w === 0 ? v : v - batch[i - 1]!));
  return { data: out, shape: [...shape] };
};

function regionSize(region: Region): number {
  return region.stop.reduce((p, stop, i) => p * (stop - region.start[i]!), 1);
}

/** Wraps a source and records what was read: the largest region, the total, and the order of events. */
export function recordingSource(inner: ImageSource, log: string[]) {
  const stats = { maxRead: 0, totalRead: 0, reads: 0 };
  const source: ImageSource = {
    name: inner.name,
    shape: inner.shape,
    dtype: inner.dtype,
    axes: inner.axes,
    async read(region?: Region, options?: { signal?: AbortSignal }): Promise<NDArray> {
      const result = await inner.read(region, options);
      stats.maxRead = Math.max(stats.maxRead, result.data.length);
      stats.totalRead += result.data.length;
      stats.reads += 1;
      log.push('read');
      return result;
    },
  };
  return { source, stats };
}

/** Wraps a writer and records the largest write, each pixel's write count, and close/abort calls. */
export function recordingWriter(inner: ImageWriter, log: string[]) {
  const size = inner.shape.reduce((p, s) => p * s, 1);
  const stats = { maxWrite: 0, writes: 0, closed: false, aborted: false, timesWritten: new Uint8Array(size) };
  const strides = inner.shape.map((_, i) => inner.shape.slice(i + 1).reduce((p, s) => p * s, 1));
  const mark = (region: Region, axis: number, base: number): void => {
    for (let i = region.start[axis]!; i < region.stop[axis]!; i++) {
      const index = base + i * strides[axis]!;
      if (axis === inner.shape.length - 1) stats.timesWritten[index]! += 1;
      else mark(region, axis + 1, index);
    }
  };
  const writer: ImageWriter = {
    shape: inner.shape,
    dtype: inner.dtype,
    axes: inner.axes,
    async write(region: Region, data: TypedArray, options?: { signal?: AbortSignal }) {
      stats.maxWrite = Math.max(stats.maxWrite, regionSize(region));
      stats.writes += 1;
      mark(region, 0, 0);
      log.push('write');
      await inner.write(region, data, options);
    },
    async close() {
      stats.closed = true;
      await inner.close();
    },
    async abort() {
      stats.aborted = true;
      await inner.abort();
    },
  };
  return { writer, stats };
}

/** Wraps a model and counts its calls. */
export function counted(inner: PredictFn): { model: PredictFn; calls: () => number } {
  let calls = 0;
  const model: PredictFn = (batch, shape, signal) => {
    calls += 1;
    return inner(batch, shape, signal);
  };
  return { model, calls: () => calls };
}
