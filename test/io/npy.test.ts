import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPES } from '../../src/io/dtype.js';
import { isIoError } from '../../src/io/errors.js';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';
import { sampleArray } from './helpers.js';

/** An NPY file with a hand-written header, as other writers (or corruption) produce. */
function npyWithHeader(header: string, payload: Uint8Array): Uint8Array {
  const padded = `${header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ')}\n`;
  const out = new Uint8Array(10 + padded.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), 10);
  out.set(payload, 10 + padded.length);
  return out;
}

function tagOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isIoError(err)) {
      expect(err.message).toContain('bad.npy: ');
      return err._tag;
    }
    throw err;
  }
  return 'no error';
}

describe('NPY', () => {
  it.each(DTYPES)('round-trips %s bit-identically in both byte orders', (dtype) => {
    const array = sampleArray(dtype, [2, 3, 5]);
    for (const littleEndian of [true, false]) {
      const bytes = encodeNpy(array, { littleEndian });
      expect((bytes.length - array.data.byteLength) % 64).toBe(0);
      expect(decodeNpy(bytes)).toEqual(array);
    }
  });

  it('round-trips random shapes and dtypes', () => {
    const shapes = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });
    fc.assert(
      fc.property(shapes, fc.constantFrom(...DTYPES), fc.boolean(), (shape, dtype, littleEndian) => {
        const array = sampleArray(dtype, shape);
        expect(decodeNpy(encodeNpy(array, { littleEndian }))).toEqual(array);
      }),
      { numRuns: 60 },
    );
  });

  it('reads Fortran order as the C-order array numpy shows', () => {
    // numpy: np.asfortranarray(np.arange(6, dtype='<i2').reshape(2, 3)) stores 0 3 1 4 2 5.
    const payload = new Uint8Array(Int16Array.from([0, 3, 1, 4, 2, 5]).buffer);
    const bytes = npyWithHeader("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }", payload);
    const array = decodeNpy(bytes);
    expect(array.shape).toEqual([2, 3]);
    expect(Array.from(array.data)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads a 1-d shape written as (n,)', () => {
    const bytes = npyWithHeader(
      "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }",
      Uint8Array.from([7, 8, 9]),
    );
    expect(decodeNpy(bytes)).toEqual({ data: Uint8Array.from([7, 8, 9]), shape: [3] });
  });

  it('rejects malformed input with tagged errors naming the file', () => {
    const good = encodeNpy(sampleArray('float32', [4, 4]));
    const decode = (bytes: Uint8Array) => () => decodeNpy(bytes, 'bad.npy');
    expect(tagOf(decode(new Uint8Array(0)))).toBe('EmptyFile');
    expect(tagOf(decode(new TextEncoder().encode('PK\x03\x04 not numpy')))).toBe('BadMagic');
    expect(tagOf(decode(good.subarray(0, good.length - 1)))).toBe('TruncatedFile');
    expect(tagOf(decode(good.subarray(0, 30)))).toBe('TruncatedFile');
    const header = (h: string, payload = new Uint8Array(0)) => decode(npyWithHeader(h, payload));
    expect(tagOf(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }"))).toBe(
      'MalformedHeader',
    );
    expect(tagOf(header("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"))).toBe(
      'UnsupportedDtype',
    );
    expect(tagOf(header("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }"))).toBe(
      'UnsupportedDtype',
    );
    expect(tagOf(header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999, 99999999), }"))).toBe(
      'AbsurdDimensions',
    );
    expect(tagOf(header('__import__("os")'))).toBe('MalformedHeader');
  });
});
