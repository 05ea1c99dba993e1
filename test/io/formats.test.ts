import { describe, expect, it } from 'vitest';
import * as browserApi from '../../src/io/index.js';
import { encodeImage, formatFromName, isIoError, openImageData } from '../../src/io/index.js';
import { extractRegion } from '../../src/io/ndarray.js';
import * as nodeApi from '../../src/io/node/index.js';
import { sampleArray } from './helpers.js';

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe('openImageData / encodeImage', () => {
  it('dispatches on the magic number, not the name', async () => {
    const array = sampleArray('uint16', [3, 4, 5]);
    for (const format of ['tiff', 'npy'] as const) {
      const bytes = concat(encodeImage(array, { axes: 'ZYX', format }));
      const source = await openImageData(bytes, { name: 'misnamed.png', axes: 'ZYX' });
      expect(await source.read()).toEqual(array);
    }
    const png = concat(encodeImage(sampleArray('uint8', [4, 5, 3]), { axes: 'YXC', format: 'png' }));
    const source = await openImageData(new Blob([png]));
    expect(source.axes).toBe('CYX');
    expect(source.shape).toEqual([3, 4, 5]);
  });

  it('reads TIFF lazily from a Blob', async () => {
    const array = sampleArray('float32', [4, 6, 7]);
    const blob = new Blob([concat(encodeImage(array, { axes: 'ZYX', format: 'tiff' }))]);
    const source = await openImageData(blob, { name: 'stack.tif' });
    const region = { start: [2, 1, 1], stop: [3, 6, 7] };
    expect(await source.read(region)).toEqual(extractRegion(array, region));
  });

  it('says which file and what is wrong', async () => {
    await expect(openImageData(new Uint8Array(0), { name: 'a.tif' })).rejects.toThrow(
      /^a\.tif: the file is empty/,
    );
    await expect(openImageData(new Uint8Array([1, 2, 3, 4]), { name: 'b.xyz' })).rejects.toSatisfy(
      (err) => isIoError(err, 'BadMagic') && err.file === 'b.xyz',
    );
    expect(() => encodeImage(sampleArray('uint8', [2, 3]), { axes: 'ZYX', format: 'npy' })).toThrow(
      /3 letters/,
    );
    expect(formatFromName('x.OME.TIF')).toBe('tiff');
  });
});

describe('public API', () => {
  it('exports exactly these names (changes must be deliberate)', () => {
    expect(Object.keys(browserApi).sort()).toEqual([
      'AXIS_ORDER',
      'ArraySource',
      'ArrayWriter',
      'DTYPES',
      'IoError',
      'MAX_ELEMENTS',
      'OmeZarrWriter',
      'TiffSource',
      'ZarrSource',
      'allocate',
      'assertPlausibleShape',
      'bytesPerElement',
      'canonicalPermutation',
      'createOmeZarr',
      'decodeNpy',
      'decodePngImage',
      'dtypeOf',
      'encodeImage',
      'encodeNpy',
      'encodePngImage',
      'encodeTiff',
      'encodeTiffParts',
      'extractRegion',
      'formatFromMagic',
      'formatFromName',
      'fullRegion',
      'guessAxes',
      'insertRegion',
      'isDType',
      'isIoError',
      'openImageData',
      'openOmeZarr',
      'openOmeZarrWriter',
      'openTiff',
      'readAll',
      'regionShape',
      'toCanonicalOrder',
      'transpose',
      'validateAxes',
    ]);
    const nodeOnly = Object.keys(nodeApi).filter((name) => !(name in browserApi));
    expect(nodeOnly.sort()).toEqual([
      'createImageWriter',
      'createOmeZarrFolder',
      'createOmeZarrPath',
      'isImageFolder',
      'isZarrPath',
      'listImageFiles',
      'listImages',
      'openFolder',
      'openImage',
      'openOmeZarrPath',
      'openOmeZarrWriterPath',
      'temporarySibling',
      'writeFileAtomic',
      'writeImage',
    ]);
  });

  it('keeps node:* imports out of the browser-safe core', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const root = new URL('../../src/io/', import.meta.url);
    const core = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && !file.startsWith('node'),
    );
    for (const file of core) {
      expect(readFileSync(new URL(file, root), 'utf8'), file).not.toMatch(/from ['"](node:|fs|path)/);
    }
  });
});
