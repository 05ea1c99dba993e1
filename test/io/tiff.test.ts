import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { decode as decodeWithImageJsTiff } from 'tiff';
import { describe, expect, it } from 'vitest';
import { bytesOf, DTYPES } from '../../src/io/dtype.js';
import { isIoError } from '../../src/io/errors.js';
import { extractRegion } from '../../src/io/ndarray.js';
import { openTiff } from '../../src/io/tiff/read.js';
import { encodeTiff } from '../../src/io/tiff/write.js';
import type { DType } from '../../src/io/types.js';
import { sampleArray } from './helpers.js';

const LAYOUTS: [string, number[]][] = [
  ['YX', [5, 7]],
  ['ZYX', [3, 5, 7]],
  ['CYX', [2, 5, 7]],
  ['CZYX', [2, 3, 4, 5]],
  ['STCZYX', [2, 2, 2, 3, 4, 5]],
];

describe('TIFF write → read', () => {
  it.each(DTYPES)(
    'round-trips %s bit-identically with OME axes, and the tiff package agrees',
    async (dtype) => {
      for (const [axes, shape] of LAYOUTS) {
        const array = sampleArray(dtype, shape);
        const bytes = encodeTiff(array, { axes });
        const source = await openTiff(bytes);
        expect(source.axes).toBe(axes);
        expect(source.dtype).toBe(dtype);
        expect(await source.read()).toEqual(array);
        // An independent decoder (image-js/tiff) sees the same page bytes; it cannot decode 32-bit integers and
        // ignores SampleFormat for integers, so bytes are compared.
        if (dtype === 'uint32' || dtype === 'int32') continue;
        const pages = decodeWithImageJsTiff(bytes);
        const planeSize = shape.at(-1)! * shape.at(-2)!;
        expect(pages.length).toBe(array.data.length / planeSize);
        pages.forEach((page, i) => {
          expect(bytesOf(page.data)).toEqual(
            bytesOf(array.data.subarray(i * planeSize, (i + 1) * planeSize)),
          );
        });
      }
    },
  );

  it('round-trips random shapes and dtypes (property)', async () => {
    const cases = fc.record({
      dtype: fc.constantFrom(...DTYPES),
      axes: fc.constantFrom('YX', 'ZYX', 'TYX', 'CZYX', 'SCYX'),
      sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 6, maxLength: 6 }),
      bigTiff: fc.boolean(),
      metadata: fc.constantFrom('ome', 'none') as fc.Arbitrary<'ome' | 'none'>,
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ dtype, axes, sizes, bigTiff, metadata }) => {
        const shape = sizes.slice(0, axes.length);
        const array = sampleArray(dtype, shape);
        const source = await openTiff(encodeTiff(array, { axes, bigTiff, metadata }), {
          axes: metadata === 'none' && shape.length === 2 ? 'YX' : undefined,
        });
        const pixels = await source.read();
        expect(pixels.data).toEqual(array.data);
        // OME-XML cannot tell a missing axis from a size-1 one, so singleton non-YX axes are dropped (as tifffile does).
        const kept = [...axes].filter((a, i) => shape[i]! > 1 || a === 'Y' || a === 'X');
        if (metadata === 'ome') expect(source.axes).toBe(kept.join(''));
        expect(source.shape.slice(-2)).toEqual(shape.slice(-2));
      }),
      { numRuns: 40 },
    );
  });

  it('writes BigTIFF when asked, readable by geotiff', async () => {
    const array = sampleArray('uint16', [3, 4, 5]);
    const bytes = encodeTiff(array, { axes: 'ZYX', bigTiff: true });
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x49, 0x49, 43, 0]);
    const source = await openTiff(bytes);
    expect(source.axes).toBe('ZYX');
    expect(await source.read()).toEqual(array);
  });

  it('writes ImageJ hyperstacks in TZCYX page order and reads them back as TCZYX', async () => {
    const array = sampleArray('float32', [2, 3, 4, 5, 6]);
    const bytes = encodeTiff(array, { axes: 'TCZYX', metadata: 'imagej' });
    const [first] = decodeWithImageJsTiff(bytes);
    expect(first!.imageDescription).toContain('channels=3\nslices=4\nframes=2\nhyperstack=true');
    // ImageJ's page order is channel fastest: page 1 is (t0, z0, c1).
    expect(Array.from(decodeWithImageJsTiff(bytes)[1]!.data)).toEqual(
      Array.from(extractRegion(array, { start: [0, 1, 0, 0, 0], stop: [1, 2, 1, 5, 6] }).data),
    );
    const source = await openTiff(bytes);
    expect(source.axes).toBe('TCZYX');
    expect(await source.read()).toEqual(array);
    expect(() => encodeTiff(sampleArray('int16', [2, 2]), { axes: 'YX', metadata: 'imagej' })).toThrow(
      /ImageJ/,
    );
  });

  it('reads a region (page range and window) touching only those pages', async () => {
    const array = sampleArray('uint16', [2, 3, 8, 9]);
    const source = await openTiff(encodeTiff(array, { axes: 'CZYX' }));
    const region = { start: [1, 1, 2, 3], stop: [2, 3, 6, 8] };
    expect(await source.read(region)).toEqual(extractRegion(array, region));
  });

  it('lets explicit axes rename the pages', async () => {
    const array = sampleArray('uint8', [3, 4, 5]);
    const source = await openTiff(encodeTiff(array, { axes: 'ZYX', metadata: 'none' }), { axes: 'SYX' });
    expect(source.axes).toBe('SYX');
    expect(await source.read()).toEqual(array);
  });
});

/** Finds IFD entry `tag` of the first page of a little-endian classic TIFF and returns its value's byte offset. */
function firstPageTagValueOffset(bytes: Uint8Array, tag: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const ifd = view.getUint32(4, true);
  const count = view.getUint16(ifd, true);
  for (let i = 0; i < count; i++) {
    if (view.getUint16(ifd + 2 + i * 12, true) === tag) return ifd + 2 + i * 12 + 8;
  }
  throw new Error(`tag ${tag} not found`);
}

/** Re-encodes the single strip of a one-page classic TIFF with `compress`, appending it and patching the tags. */
function recompressed(
  bytes: Uint8Array,
  code: number,
  compress: (data: Uint8Array) => Uint8Array,
): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const offsetAt = firstPageTagValueOffset(bytes, 273);
  const countAt = firstPageTagValueOffset(bytes, 279);
  const strip = bytes.subarray(
    view.getUint32(offsetAt, true),
    view.getUint32(offsetAt, true) + view.getUint32(countAt, true),
  );
  const packed = compress(strip);
  const out = new Uint8Array(bytes.length + packed.length);
  out.set(bytes);
  out.set(packed, bytes.length);
  const outView = new DataView(out.buffer);
  outView.setUint32(offsetAt, bytes.length, true);
  outView.setUint32(countAt, packed.length, true);
  outView.setUint16(firstPageTagValueOffset(out, 259), code, true);
  return out;
}

/** PackBits as literal runs of up to 128 bytes: valid, if not compact. */
function packBits(data: Uint8Array): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < data.length; i += 128) {
    const run = data.subarray(i, i + 128);
    parts.push(run.length - 1, ...run);
  }
  return Uint8Array.from(parts);
}

describe('TIFF compression', () => {
  it.each([
    ['PackBits', 32773, packBits],
    ['Deflate', 8, (data: Uint8Array) => new Uint8Array(deflateSync(data))],
    ['Adobe Deflate', 32946, (data: Uint8Array) => new Uint8Array(deflateSync(data))],
  ] as const)('reads %s strips', async (_, code, compress) => {
    const array = sampleArray('int16', [9, 13]);
    const source = await openTiff(recompressed(encodeTiff(array, { axes: 'YX' }), code, compress));
    expect(await source.read()).toEqual(array);
  });
});

describe('TIFF bad input', () => {
  const good = () => encodeTiff(sampleArray('uint16', [2, 16, 16]), { axes: 'ZYX' });

  async function tagOf(bytes: Uint8Array, options: { axes?: string } = {}): Promise<string> {
    try {
      const source = await openTiff(bytes, { name: 'bad.tif', ...options });
      await source.read();
    } catch (err) {
      if (!isIoError(err)) throw err;
      expect(err.file).toBe('bad.tif');
      expect(err.message).toMatch(/^bad\.tif: \S/);
      return err._tag;
    }
    return 'no error';
  }

  it('gives tagged errors naming the file, never a crash or hang', async () => {
    const patched = (tag: number, value: number, size: 2 | 4 = 4) => {
      const bytes = good();
      const view = new DataView(bytes.buffer);
      const at = firstPageTagValueOffset(bytes, tag);
      if (size === 2) view.setUint16(at, value, true);
      else view.setUint32(at, value, true);
      return bytes;
    };
    expect(await tagOf(new Uint8Array(0))).toBe('EmptyFile');
    expect(await tagOf(new TextEncoder().encode('GIF89a...........'))).toBe('BadMagic');
    expect(await tagOf(good().subarray(0, 6))).toBe('TruncatedFile');
    expect(await tagOf(good().subarray(0, 40))).toBe('TruncatedFile');
    expect(await tagOf(good().subarray(0, good().length - 100))).toBe('TruncatedFile');
    expect(await tagOf(patched(259, 99, 2))).toBe('UnsupportedCompression');
    expect(await tagOf(patched(256, 2 ** 31))).toBe('AbsurdDimensions');
    expect(await tagOf(patched(256, 2 ** 20))).toBe('AbsurdDimensions'); // plausible, but not from this file
    expect(await tagOf(patched(339, 3, 2))).toBe('UnsupportedDtype'); // float with 16 bits
    expect(await tagOf(good(), { axes: 'YX' })).toBe('AxesMismatch');
    expect(await tagOf(good(), { axes: 'YXZ' })).toBe('AxesMismatch');
    const loop = good();
    const view = new DataView(loop.buffer);
    const ifd = view.getUint32(4, true);
    view.setUint32(ifd + 2 + view.getUint16(ifd, true) * 12, ifd, true);
    expect(await tagOf(loop)).toBe('MalformedHeader');
  });

  it.each(['uint8', 'float64'] as DType[])('rejects a TIFF cut inside the %s pixel data', async (dtype) => {
    const bytes = encodeTiff(sampleArray(dtype, [8, 8]), { axes: 'YX' });
    expect(await tagOf(bytes.subarray(0, bytes.length - 10))).toBe('TruncatedFile');
  });
});
