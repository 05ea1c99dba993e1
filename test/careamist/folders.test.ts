/** Which images of a folder train: the declared data_type's files, else the one format the folder holds. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFolderImages, selectFolderImages } from '../../src/careamist/folders.js';
import { isCareamicsError, isImageFolder, openSources, writeImage } from '../../src/node.js';

describe('selectFolderImages', () => {
  const folder = '/data';
  const at = (...names: string[]) => names.map((n) => join(folder, n));

  it('takes the declared type by extension, .tif and .tiff alike, and ignores other formats (as CAREamics globs)', () => {
    expect(selectFolderImages(folder, at('a.tif', 'b.TIFF', 'preview.png'), 'tiff')).toEqual({
      files: at('a.tif', 'b.TIFF'),
    });
    expect(selectFolderImages(folder, at('a.npy', 'b.tif'), 'array')).toEqual({ files: at('a.npy') });
  });

  it('custom infers the format silently; another declared type reads the one format found, with a warning', () => {
    expect(selectFolderImages(folder, at('a.png', 'b.png'), 'custom')).toEqual({
      files: at('a.png', 'b.png'),
    });
    const { files, warning } = selectFolderImages(folder, at('a.png', 'b.png'), 'tiff');
    expect(files).toEqual(at('a.png', 'b.png'));
    expect(warning).toBe(
      '/data: data_type is "tiff" but the folder holds png images; reading them (data_type "custom" reads any format without this warning)',
    );
  });

  it('refuses a mix of formats it would have to infer, naming two files, and an empty folder', () => {
    const mixed = () => selectFolderImages(folder, at('a.png', 'b.png', 'c.npy'), 'custom');
    expect(mixed).toThrow('/data: mixes formats (a.png is png, c.npy is npy); keep one format per folder');
    expect(() => selectFolderImages(folder, at('a.png', 'x.zarr'), 'tiff')).toThrow(
      /a\.png is png, x\.zarr is zarr/,
    );
    expect(() => selectFolderImages(folder, [], 'custom')).toThrow('/data: no images in this folder');
  });
});

describe('opening a folder', () => {
  let dir: string;
  const p = (...parts: string[]) => join(dir, ...parts);
  const u16 = (n: number, seed: number) => Uint16Array.from({ length: n }, (_, i) => (i * seed) % 4000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'careamics-folders-'));
    await mkdir(p('png'));
    await writeImage(p('png', 'f1.png'), { data: u16(32 * 48, 7), shape: [32, 48] }, { axes: 'YX' });
    await writeImage(p('png', 'f2.png'), { data: u16(40 * 40, 3), shape: [40, 40] }, { axes: 'YX' });
    await mkdir(p('ranks'));
    await writeImage(p('ranks', 'a.tif'), { data: u16(32 * 32, 1), shape: [32, 32] }, { axes: 'YX' });
    await writeImage(p('ranks', 'b.tif'), { data: u16(2 * 32 * 32, 1), shape: [2, 32, 32] }, { axes: 'SYX' });
    await mkdir(p('channels'));
    await writeImage(
      p('channels', 'a.npy'),
      { data: u16(2 * 16 * 16, 1), shape: [2, 16, 16] },
      { axes: 'CYX' },
    );
    await writeImage(
      p('channels', 'b.npy'),
      { data: u16(3 * 16 * 16, 1), shape: [3, 16, 16] },
      { axes: 'CYX' },
    );
    await writeImage(p('Stack.ZARR'), { data: u16(2 * 16 * 16, 5), shape: [2, 16, 16] }, { axes: 'ZYX' });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a folder of 16-bit PNGs under data_type tiff, warning once, each image its own size', async () => {
    const warnings: string[] = [];
    const sources = await openSources(p('png'), 'YX', 'tiff', (m) => warnings.push(m));
    expect(sources.map((s) => [s.shape, s.dtype])).toEqual([
      [[32, 48], 'uint16'],
      [[40, 40], 'uint16'],
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('holds png images');
  });

  it('refuses files whose rank does not fit the axes while another does, naming both', async () => {
    const err = await openSources(p('ranks'), 'YX', 'tiff', () => {}).catch((e: Error) => e);
    expect(isCareamicsError(err, 'CAREamistError')).toBe(true);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`${p('ranks', 'a.tif')} (YX, shape 32×32)`);
    expect(message).toContain(p('ranks', 'b.tif'));
    expect(message).toContain("differ; a folder's images must share axes and channels");
  });

  it('refuses images with different channel counts, naming both', async () => {
    const files = [p('channels', 'a.npy'), p('channels', 'b.npy')];
    await expect(openFolderImages(files, 'CYX')).rejects.toThrow(
      `${files[0]} (CYX with 2 channels, shape 2×16×16) and ${files[1]} (CYX with 3 channels, shape 3×16×16) differ`,
    );
  });

  // The library read `x.zarr/` (as shells complete it) and `x.ZARR` as folders of images; the CLI did not.
  it('opens an OME-Zarr store named in any case, with a trailing slash, as one image, not a folder', async () => {
    for (const path of [p('Stack.ZARR'), `${p('Stack.ZARR')}/`]) {
      expect(await isImageFolder(path)).toBe(false);
      const sources = await openSources(path, 'ZYX', 'zarr', () => {});
      expect(sources.map((s) => s.shape)).toEqual([[2, 16, 16]]);
    }
    expect(await isImageFolder(p('png'))).toBe(true);
    expect(await isImageFolder(`${p('png')}/`)).toBe(true);
    expect(await isImageFolder(p('png', 'f1.png'))).toBe(false);
    expect(await isImageFolder(p('missing'))).toBe(false);
  });
});
