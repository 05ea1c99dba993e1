import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { isIoError } from '../../src/io/errors.js';
import { decodePngImage, encodePngImage } from '../../src/io/png.js';
import { sampleArray } from './helpers.js';

describe('PNG', () => {
  it.each([
    ['uint8', 'YX', [5, 7]],
    ['uint16', 'YX', [5, 7]],
    ['uint8', 'CYX', [3, 5, 7]],
    ['uint16', 'CYX', [4, 5, 7]],
    ['uint8', 'CYX', [2, 5, 7]],
  ] as const)('round-trips %s %s %j', (dtype, axes, shape) => {
    const array = sampleArray(dtype, [...shape]);
    const decoded = decodePngImage(encodePngImage(array, axes));
    expect(decoded.axes).toBe(axes);
    expect(decoded.array).toEqual(array);
  });

  it('decodes interleaved RGB into channel planes', () => {
    const rgb = Uint8Array.from([10, 20, 30, 11, 21, 31]);
    const { array, axes } = decodePngImage(encode({ width: 2, height: 1, data: rgb, channels: 3, depth: 8 }));
    expect(axes).toBe('CYX');
    expect(Array.from(array.data)).toEqual([10, 11, 20, 21, 30, 31]);
  });

  it('refuses dtypes PNG cannot hold and bad bytes, naming the file', () => {
    const check = (fn: () => unknown, tag: string) => {
      try {
        fn();
        expect.unreachable();
      } catch (err) {
        expect(isIoError(err, tag as never)).toBe(true);
        expect((err as Error).message).toMatch(/^x\.png: /);
      }
    };
    check(() => encodePngImage(sampleArray('float32', [2, 2]), 'YX', 'x.png'), 'UnsupportedDtype');
    check(() => decodePngImage(new Uint8Array(0), 'x.png'), 'EmptyFile');
    check(() => decodePngImage(new Uint8Array(40).fill(1), 'x.png'), 'BadMagic');
    const good = encodePngImage(sampleArray('uint8', [16, 16]), 'YX');
    check(() => decodePngImage(good.subarray(0, 20), 'x.png'), 'TruncatedFile');
    check(() => decodePngImage(good.subarray(0, good.length - 30), 'x.png'), 'TruncatedFile');
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(16, 2 ** 31 - 1);
    new DataView(huge.buffer).setUint32(20, 2 ** 31 - 1);
    check(() => decodePngImage(huge, 'x.png'), 'AbsurdDimensions');
    new DataView(huge.buffer).setUint32(16, 1_000_000);
    new DataView(huge.buffer).setUint32(20, 1_000);
    check(() => decodePngImage(huge, 'x.png'), 'AbsurdDimensions'); // plausible shape, impossible for the file size
  });
});
