import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extractRegion } from '../../src/io/ndarray.js';
import {
  createImageWriter,
  createOmeZarrFolder,
  createOmeZarrPath,
  isIoError,
  listImageFiles,
  openFolder,
  openImage,
  openOmeZarrWriterPath,
  readAll,
  writeFileAtomic,
  writeImage,
} from '../../src/io/node/index.js';
import { sampleArray } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'careamics-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeImage → openImage on disk', () => {
  it.each([
    ['stack.ome.tif', 'uint16', 'CZYX', [2, 3, 8, 9]],
    ['plane.tiff', 'float32', 'YX', [8, 9]],
    ['rgb.png', 'uint8', 'CYX', [3, 8, 9]],
    ['grey16.png', 'uint16', 'YX', [8, 9]],
    ['array.npy', 'float64', 'SYX', [2, 8, 9]],
    ['image.zarr', 'int16', 'TZYX', [2, 3, 8, 9]],
  ] as const)('%s', async (file, dtype, axes, shape) => {
    const array = sampleArray(dtype, [...shape]);
    const path = join(dir, file);
    await writeImage(path, array, { axes });
    const source = await openImage(path, file.endsWith('.npy') ? { axes } : {});
    expect(source.axes).toBe(axes);
    expect(await readAll(source)).toEqual(array);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('opens bytes already in memory', async () => {
    const path = join(dir, 'bytes.npy');
    await writeImage(path, sampleArray('uint8', [4, 5]), { axes: 'YX' });
    const bytes = new Uint8Array(readFileSync(path));
    expect((await openImage(bytes)).shape).toEqual([4, 5]);
  });

  it('leaves nothing behind when a write fails', async () => {
    const path = join(dir, 'bad.png');
    await expect(writeImage(path, sampleArray('float32', [4, 4]), { axes: 'YX' })).rejects.toSatisfy((err) =>
      isIoError(err, 'UnsupportedDtype'),
    );
    await expect(writeFileAtomic(join(dir, 'missing', 'x.tif'), [new Uint8Array(3)])).rejects.toThrow(
      /ENOENT/,
    );
    expect(readdirSync(dir).filter((name) => name.startsWith('.bad.png') || name === 'bad.png')).toEqual([]);
  });

  it('replaces an existing file atomically', async () => {
    const path = join(dir, 'replace.npy');
    await writeImage(path, sampleArray('uint8', [2, 2]), { axes: 'YX' });
    await writeImage(path, sampleArray('uint8', [3, 3]), { axes: 'YX' });
    expect((await openImage(path)).shape).toEqual([3, 3]);
  });

  it.each(['tiles.tif', 'tiles.zarr'])('createImageWriter assembles tiles into %s', async (file) => {
    const path = join(dir, file);
    const array = sampleArray('float32', [2, 10, 12]);
    const writer = await createImageWriter(path, { shape: array.shape, dtype: 'float32', axes: 'ZYX' });
    for (const [y0, y1] of [
      [0, 4],
      [4, 10],
    ]) {
      const region = { start: [0, y0!, 0], stop: [2, y1!, 12] };
      await writer.write(region, extractRegion(array, region).data);
    }
    await writer.close();
    expect(await readAll(await openImage(path))).toEqual(array);
  });

  it('renames an OME-Zarr into place on close and removes it on abort', async () => {
    const path = join(dir, 'aborted.zarr');
    const writer = await createOmeZarrPath(path, { shape: [4, 4], dtype: 'uint8', axes: 'YX' });
    await writer.write({ start: [0, 0], stop: [2, 2] }, new Uint8Array(4));
    await writer.abort();
    expect(readdirSync(dir).filter((name) => name.includes('aborted'))).toEqual([]);
  });

  it('names the file when it cannot be opened', async () => {
    const empty = join(dir, 'empty.tif');
    writeFileSync(empty, '');
    await expect(openImage(empty)).rejects.toSatisfy(
      (err) => isIoError(err, 'EmptyFile') && err.file === empty,
    );
    const fake = join(dir, 'fake.tif');
    writeFileSync(fake, 'not a tiff at all');
    await expect(openImage(fake)).rejects.toThrow(/fake\.tif: the content is not a valid TIFF file/);
    await expect(openImage(join(dir, 'nope.tif'))).rejects.toSatisfy(
      (err) => isIoError(err, 'FileNotFound') && /nope\.tif: cannot open/.test(err.message),
    );
  });
});

describe('folders', () => {
  it('lists files of one extension, sorted, as sources', async () => {
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    for (const name of ['b.npy', 'a.npy', 'c.NPY', 'skip.png']) {
      await writeImage(join(folder, name), sampleArray('uint8', [2, 3]), { axes: 'YX', format: 'npy' });
    }
    expect((await listImageFiles(folder, 'npy')).map((p) => p.slice(folder.length + 1))).toEqual([
      'a.npy',
      'b.npy',
      'c.NPY',
    ]);
    const sources = await openFolder(folder, { extension: '.npy', axes: 'YX' });
    expect(sources.map((s) => s.shape)).toEqual([
      [2, 3],
      [2, 3],
      [2, 3],
    ]);
  });
});

const HAS_TIFFFILE = spawnSync('/usr/bin/python3', ['-c', 'import tifffile']).status === 0;
if (!HAS_TIFFFILE) console.warn('skipping tifffile interop test: /usr/bin/python3 cannot import tifffile');

describe.skipIf(!HAS_TIFFFILE)('tifffile interop', () => {
  it('tifffile reads our OME-TIFF with the same shape, axes and pixels', async () => {
    const path = join(dir, 'interop.ome.tif');
    const array = sampleArray('uint16', [2, 3, 8, 9]);
    await writeImage(path, array, { axes: 'CZYX' });
    const script = [
      'import sys, tifffile',
      'with tifffile.TiffFile(sys.argv[1]) as t:',
      '    s = t.series[0]; a = s.asarray()',
      '    print(t.is_ome, s.axes, list(a.shape), str(a.dtype), int(a.sum()))',
    ].join('\n');
    const out = execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' }).trim();
    const sum = Array.from(array.data).reduce((a, b) => a + b, 0);
    expect(out).toBe(`True CZYX [2, 3, 8, 9] uint16 ${sum}`);
  });

  it('tifffile reads our ImageJ hyperstack with ImageJ axes', async () => {
    const path = join(dir, 'interop-ij.tif');
    await writeImage(path, sampleArray('float32', [2, 3, 4, 8, 9]), { axes: 'TCZYX', metadata: 'imagej' });
    const script =
      'import sys, tifffile\nwith tifffile.TiffFile(sys.argv[1]) as t: print(t.is_imagej, t.series[0].axes, list(t.series[0].shape))';
    const out = execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' }).trim();
    expect(out).toBe('True TZCYX [2, 4, 3, 8, 9]');
  });
});

describe('an OME-Zarr written by several processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'careamics-zarr-shared-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is created empty once (a second creation fails), then written region by region by other writers', async () => {
    const path = join(dir, 'shared.zarr');
    const options = { shape: [40, 60], dtype: 'uint16' as const, axes: 'YX', chunks: [20, 30] };
    const created = await createOmeZarrFolder(path, options);
    expect(created.chunks).toEqual([20, 30]);
    await expect(createOmeZarrFolder(path, options)).rejects.toThrow(`${path}: already exists`);
    const data = Uint16Array.from({ length: 40 * 60 }, (_, i) => i);
    for (const start of [
      [0, 0],
      [0, 30],
      [20, 0],
      [20, 30],
    ]) {
      const writer = await openOmeZarrWriterPath(path);
      expect(writer.axes).toBe('YX');
      const region = { start, stop: [start[0]! + 20, start[1]! + 30] };
      await writer.write(region, extractRegion({ data, shape: [40, 60] }, region).data);
      await writer.close();
    }
    expect(Array.from((await (await openImage(path)).read()).data)).toEqual(Array.from(data));
  });
});
