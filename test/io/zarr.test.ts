import { describe, expect, it } from 'vitest';
import type { AbsolutePath } from 'zarrita';
import { DTYPES } from '../../src/io/dtype.js';
import { isIoError } from '../../src/io/errors.js';
import { extractRegion, insertRegion } from '../../src/io/ndarray.js';
import { createOmeZarr, openOmeZarr } from '../../src/io/zarr.js';
import { sampleArray } from './helpers.js';

/** An in-memory store that records which keys were read and written. */
class RecordingStore {
  readonly files = new Map<string, Uint8Array>();
  readonly reads: string[] = [];
  readonly writes: string[] = [];
  async get(key: AbsolutePath) {
    this.reads.push(key);
    return this.files.get(key);
  }
  async set(key: AbsolutePath, value: Uint8Array) {
    this.writes.push(key);
    this.files.set(key, value);
  }
  json(key: string) {
    return JSON.parse(new TextDecoder().decode(this.files.get(key)));
  }
}

describe.each([2, 3] as const)('OME-Zarr v%i', (version) => {
  it.each(DTYPES)('round-trips %s written in unaligned regions', async (dtype) => {
    const array = sampleArray(dtype, [2, 9, 11]);
    const store = new RecordingStore();
    const writer = await createOmeZarr(store, {
      shape: array.shape,
      dtype,
      axes: 'CYX',
      chunks: [1, 4, 4],
      version,
    });
    // Two unaligned halves, written concurrently: chunks on the seam must not lose either write.
    const top = { start: [0, 0, 0], stop: [2, 5, 11] };
    const bottom = { start: [0, 5, 0], stop: [2, 9, 11] };
    await Promise.all([
      writer.write(bottom, extractRegion(array, bottom).data),
      writer.write(top, extractRegion(array, top).data),
    ]);
    await writer.close();
    const source = await openOmeZarr(store);
    expect(source.axes).toBe('CYX');
    expect(source.dtype).toBe(dtype);
    expect(await source.read()).toEqual(array);
  });

  it('writes NGFF multiscales metadata', async () => {
    const store = new RecordingStore();
    await createOmeZarr(store, {
      shape: [3, 64, 64],
      dtype: 'float32',
      axes: 'ZYX',
      scale: [2, 0.5, 0.5],
      version,
    });
    const attrs = version === 3 ? store.json('/zarr.json').attributes.ome : store.json('/.zattrs');
    const [multiscale] = attrs.multiscales ?? [];
    expect(version === 3 ? attrs.version : multiscale.version).toBe(version === 3 ? '0.5' : '0.4');
    expect(multiscale.axes).toEqual([
      { name: 'z', type: 'space' },
      { name: 'y', type: 'space' },
      { name: 'x', type: 'space' },
    ]);
    expect(multiscale.datasets).toEqual([
      { path: '0', coordinateTransformations: [{ type: 'scale', scale: [2, 0.5, 0.5] }] },
    ]);
  });

  it('reads a region touching only the chunks it overlaps', async () => {
    const array = sampleArray('uint16', [4, 32, 32]);
    const store = new RecordingStore();
    const writer = await createOmeZarr(store, {
      shape: array.shape,
      dtype: 'uint16',
      axes: 'ZYX',
      chunks: [1, 8, 8],
      version,
    });
    await writer.write({ start: [0, 0, 0], stop: array.shape }, array.data);
    await writer.close();
    const source = await openOmeZarr(store);
    store.reads.length = 0;
    const region = { start: [1, 3, 9], stop: [3, 10, 15] };
    expect(await source.read(region)).toEqual(extractRegion(array, region));
    const chunkReads = store.reads.filter((key) => !/(zarr\.json|\.z\w+)$/.test(key));
    expect(chunkReads.length).toBe(2 * 2 * 1); // z 1..2, y chunks 0 and 1, x chunk 1
  });

  it('streams a tile into an image far larger than memory, storing only the touched chunks', async () => {
    const store = new RecordingStore();
    const shape = [100_000, 100_000]; // 20 GB of uint16
    const writer = await createOmeZarr(store, {
      shape,
      dtype: 'uint16',
      axes: 'YX',
      chunks: [256, 256],
      version,
    });
    const tile = sampleArray('uint16', [300, 300]);
    const region = { start: [1000, 2000], stop: [1300, 2300] };
    await writer.write(region, tile.data);
    await writer.close();
    expect(store.writes.filter((key) => !/(zarr\.json|\.z\w+)$/.test(key)).length).toBe(3 * 2); // y chunks 3–5, x chunks 7–8
    const source = await openOmeZarr(store);
    const expected = { data: new Uint16Array(400 * 400), shape: [400, 400] };
    insertRegion(expected, { start: [100, 100], stop: [400, 400] }, tile.data);
    expect(await source.read({ start: [900, 1900], stop: [1300, 2300] })).toEqual(expected);
    await expect(source.read()).rejects.toSatisfy((err) => isIoError(err, 'AbsurdDimensions'));
  });
});

describe('OME-Zarr errors', () => {
  it('names the store and the problem', async () => {
    const empty = new RecordingStore();
    await expect(openOmeZarr(empty, { name: 'missing.zarr' })).rejects.toThrow(/missing\.zarr: no Zarr/);
    const store = new RecordingStore();
    const writer = await createOmeZarr(store, { shape: [4, 4], dtype: 'uint8', axes: 'YX' });
    await expect(writer.write({ start: [0, 0], stop: [2, 2] }, new Uint8Array(3))).rejects.toSatisfy((err) =>
      isIoError(err, 'ShapeMismatch'),
    );
    await expect(writer.write({ start: [0, 0], stop: [5, 2] }, new Uint8Array(10))).rejects.toSatisfy((err) =>
      isIoError(err, 'RegionOutOfBounds'),
    );
    await expect(openOmeZarr(store, { axes: 'ZYX' })).rejects.toSatisfy((err) =>
      isIoError(err, 'AxesMismatch'),
    );
  });
});
