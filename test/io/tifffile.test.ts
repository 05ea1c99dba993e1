import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAll } from '../../src/io/memory.js';
import { extractRegion, transpose } from '../../src/io/ndarray.js';
import { openImage } from '../../src/io/node/index.js';
import { decodeNpy } from '../../src/io/npy.js';

const HAS_TIFFFILE = spawnSync('/usr/bin/python3', ['-c', 'import tifffile']).status === 0;
if (!HAS_TIFFFILE)
  console.warn('skipping tifffile-written fixtures: /usr/bin/python3 cannot import tifffile');

/** Writes TIFF variants with tifffile (no imagecodecs needed) and each expected array as .npy beside it. */
const WRITE_FIXTURES = `
import sys, numpy as np, tifffile
out = sys.argv[1]
rng = np.random.default_rng(1)
def save(name, a, **kw):
    tifffile.imwrite(f'{out}/{name}.tif', a, **kw)
    np.save(f'{out}/{name}.npy', a)
for dt in ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64']:
    a = (rng.random((2, 9, 13)) * 200 - (0 if dt.startswith('u') else 100)).astype(dt)
    for bo in '<>':
        save(f'{dt}{bo == ">" and "_be" or "_le"}', a, byteorder=bo)
        if not dt.startswith('float'):
            save(f'{dt}{bo == ">" and "_be" or "_le"}_deflate_predictor', a, byteorder=bo, compression='zlib', predictor=True)
b = (rng.random((3, 40, 50)) * 1000).astype('uint16')
save('tiled_be_deflate_predictor', b[0], tile=(16, 16), byteorder='>', compression='zlib', predictor=True)
save('bigtiff_be', b, bigtiff=True, byteorder='>', photometric='minisblack')
save('imagej_tzcyx', (rng.random((2, 3, 2, 9, 13)) * 255).astype('float32'), imagej=True, metadata={'axes': 'TZCYX'})
`;

const dir = mkdtempSync(join(tmpdir(), 'careamics-tifffile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!HAS_TIFFFILE)('TIFFs written by tifffile read pixel-identically', () => {
  if (HAS_TIFFFILE) execFileSync('/usr/bin/python3', ['-c', WRITE_FIXTURES, dir]);
  const names = HAS_TIFFFILE ? readdirSync(dir).filter((f) => f.endsWith('.tif')) : [];

  it.each(names)('%s', async (file) => {
    const source = await openImage(join(dir, file));
    const expected = decodeNpy(new Uint8Array(readFileSync(join(dir, file.replace('.tif', '.npy')))));
    const pixels = await readAll(source);
    // tifffile gives ImageJ stacks in TZCYX order; we present them in STCZYX order.
    const comparable = file.startsWith('imagej') ? transpose(expected, [0, 2, 1, 3, 4]) : expected;
    expect(pixels).toEqual(comparable);
    // A window that starts mid-row and mid-tile exercises the cropping paths.
    const region = {
      start: source.shape.map((n) => Math.min(1, n - 1)),
      stop: source.shape.map((n) => n - 1 || 1),
    };
    expect(await source.read(region)).toEqual(extractRegion(comparable, region));
    if (file.startsWith('imagej')) expect(source.axes).toBe('TCZYX');
  });
});
