/** Region reads through the bounded chunk cache: the same pixels as direct reads, memory bounded, failures named. */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random.js';
import { CachedSource, ChunkCache, isChunkedSource } from '../../src/io/chunks.js';
import { isIoError } from '../../src/io/errors.js';
import { encodeTiff, openTiff } from '../../src/io/index.js';
import { createOmeZarrPath, openOmeZarrPath } from '../../src/io/node/zarr.js';
import type { NDArray, Region } from '../../src/io/types.js';

const tmp = mkdtempSync(join(tmpdir(), 'careamics-chunks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SHAPE = [3, 70, 90];

async function writeZarr(name: string, chunks: number[]) {
  const path = join(tmp, name);
  const data = Float32Array.from({ length: SHAPE[0] * SHAPE[1] * SHAPE[2] }, (_, i) => (i * 7919) % 1000);
  const writer = await createOmeZarrPath(path, { shape: SHAPE, dtype: 'float32', axes: 'SYX', chunks });
  await writer.write({ start: [0, 0, 0], stop: SHAPE }, data);
  await writer.close();
  return path;
}

function randomRegion(rng: Rng, shape: readonly number[]): Region {
  const start = shape.map((n) => rng.integer(0, n));
  const stop = start.map((s, i) => rng.integer(s + 1, shape[i]! + 1));
  return { start, stop };
}

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

describe('CachedSource', () => {
  it('reads the same pixels as the source, keeping at most the capacity in decoded chunks', async () => {
    const source = await openOmeZarrPath(await writeZarr('a.zarr', [1, 32, 40]));
    expect(isChunkedSource(source)).toBe(true);
    const chunkBytes = 32 * 40 * 4;
    const cache = new ChunkCache(5 * chunkBytes);
    const cached = new CachedSource(source, cache);
    const rng = new Rng(3);
    for (let i = 0; i < 40; i++) {
      const region = randomRegion(rng, SHAPE);
      const [direct, through] = await Promise.all([source.read(region), cached.read(region)]);
      expect(through.shape).toEqual(direct.shape);
      expect(Array.from(through.data)).toEqual(Array.from(direct.data));
      expect(cache.bytes).toBeLessThanOrEqual(cache.capacityBytes);
    }
    expect(cache.peakBytes).toBeLessThanOrEqual(5 * chunkBytes);
    expect(cache.peakBytes).toBeGreaterThan(0);
    expect(cache.hits).toBeGreaterThan(0);
    // Every kept chunk is one whole (padded) chunk: the byte count is a multiple of the chunk's size.
    expect(cache.bytes % chunkBytes).toBe(0);
  });

  it('decodes a chunk once while it is cached, however many reads overlap it', async () => {
    const source = await openOmeZarrPath(await writeZarr('b.zarr', [1, 70, 90]));
    const cache = new ChunkCache(2 ** 20);
    const cached = new CachedSource(source, cache);
    const regions = Array.from({ length: 8 }, (_, i) => ({ start: [1, i, i], stop: [2, i + 10, i + 10] }));
    await Promise.all(regions.map((r) => cached.read(r)));
    expect(cache.misses).toBe(1);
    expect(cache.hits).toBe(7);
  });

  it('keeps nothing with capacity 0 and evicts the least recently used chunk first', async () => {
    const source = await openOmeZarrPath(await writeZarr('c.zarr', [1, 35, 45]));
    const none = new ChunkCache(0);
    await new CachedSource(source, none).read();
    expect(none.bytes).toBe(0);
    const chunk = 35 * 45 * 4;
    const two = new ChunkCache(2 * chunk);
    const cached = new CachedSource(source, two);
    const at = (y: number, x: number) => ({ start: [0, y, x], stop: [1, y + 1, x + 1] });
    await cached.read(at(0, 0));
    await cached.read(at(0, 50));
    await cached.read(at(0, 0)); // (0,0) is now the most recent
    await cached.read(at(40, 0)); // evicts (0,50)
    const misses = two.misses;
    await cached.read(at(0, 0));
    expect(two.misses).toBe(misses);
    await cached.read(at(0, 50));
    expect(two.misses).toBe(misses + 1);
  });

  it('names the file and the chunk that fails to decode', async () => {
    const path = await writeZarr('corrupt.zarr', [1, 32, 40]);
    const chunkFiles = files(join(path, '0')).filter((f) => !f.endsWith('zarr.json'));
    const victim = chunkFiles.sort()[1]!;
    writeFileSync(victim, Buffer.alloc(statSync(victim).size, 0x5a));
    const cached = new CachedSource(await openOmeZarrPath(path), new ChunkCache(2 ** 20));
    const error = await cached.read().catch((e) => e);
    expect(isIoError(error), String(error)).toBe(true);
    expect(error.message).toMatch(/corrupt\.zarr: cannot decode chunk \[\d+, \d+, \d+\] of array \/0: /);
    expect(error.message).not.toMatch(/\n/);
    // The failed chunk is not cached: reading it again fails again; a plain read names it too (zarrita alone
    // fills a chunk that decodes to nothing with zeros).
    await expect(cached.read()).rejects.toThrow(/cannot decode chunk/);
    await expect((await openOmeZarrPath(path)).read()).rejects.toThrow(/cannot decode chunk \[/);
  });

  it('reads TIFF strips as chunks of whole rows', async () => {
    const data = Uint16Array.from({ length: 2 * 100 * 50 }, (_, i) => i % 65521);
    const tiff = await openTiff(encodeTiff({ data, shape: [2, 100, 50] }, { axes: 'ZYX' }));
    expect(tiff.chunkShape[0]).toBe(1);
    expect(tiff.chunkShape[2]).toBe(50);
    const cached = new CachedSource(tiff, new ChunkCache(2 ** 20));
    const region = { start: [1, 13, 7], stop: [2, 90, 41] };
    const direct: NDArray = await tiff.read(region);
    expect(Array.from((await cached.read(region)).data)).toEqual(Array.from(direct.data));
  });
});

describe('TIFF region reads', () => {
  it('fetch only the strips a region overlaps, not the whole file', async () => {
    const data = Uint16Array.from({ length: 4 * 120 * 100 }, (_, i) => (i * 31) % 65521);
    const bytes = encodeTiff({ data, shape: [4, 120, 100] }, { axes: 'ZYX' });
    let fetched = 0;
    class CountingBlob extends Blob {
      override slice(start?: number, end?: number, type?: string): Blob {
        fetched += (end ?? this.size) - (start ?? 0);
        return super.slice(start, end, type);
      }
    }
    const tiff = await openTiff(new CountingBlob([bytes as Uint8Array<ArrayBuffer>]));
    fetched = 0;
    const region = { start: [2, 30, 10], stop: [3, 60, 90] };
    const read = await tiff.read(region);
    const expected = await (await openTiff(bytes)).read(region);
    expect(Array.from(read.data)).toEqual(Array.from(expected.data));
    // One page's strip of four (plus its directory), not the file.
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThan(bytes.length / 3);
  });
});
