import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  extractRegion,
  insertRegion,
  regionShape,
  toCanonicalOrder,
  transpose,
} from '../../src/io/ndarray.js';
import type { NDArray, Region } from '../../src/io/types.js';

const arrayWithRegion = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.tuple(...shape.map((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.integer({ min: 0, max: n })))),
    ),
  )
  .map(([shape, bounds]) => {
    const data = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i);
    const region: Region = {
      start: bounds.map(([a, b]) => Math.min(a, b)),
      stop: bounds.map(([a, b]) => Math.max(a, b)),
    };
    return { array: { data, shape } as NDArray, region };
  });

describe('regions', () => {
  it('extract picks exactly the elements inside the box', () => {
    fc.assert(
      fc.property(arrayWithRegion, ({ array, region }) => {
        const out = extractRegion(array, region);
        expect(out.shape).toEqual(regionShape(region));
        const strides = array.shape.map((_, i) => array.shape.slice(i + 1).reduce((a, b) => a * b, 1));
        const expected: number[] = [];
        const visit = (axis: number, offset: number) => {
          if (axis === array.shape.length) return void expected.push(offset);
          for (let i = region.start[axis]!; i < region.stop[axis]!; i++)
            visit(axis + 1, offset + i * strides[axis]!);
        };
        visit(0, 0);
        expect(Array.from(out.data)).toEqual(expected);
      }),
    );
  });

  it('insert(extract(x)) into zeros restores the box and nothing else', () => {
    fc.assert(
      fc.property(arrayWithRegion, ({ array, region }) => {
        const target = { data: new Float64Array(array.data.length), shape: array.shape };
        insertRegion(target, region, extractRegion(array, region).data);
        expect(extractRegion(target, region)).toEqual(extractRegion(array, region));
        const total = Array.from(target.data).reduce((a, b) => a + b, 0);
        expect(total).toBe(Array.from(extractRegion(array, region).data).reduce((a, b) => a + b, 0));
      }),
    );
  });
});

describe('transpose', () => {
  it('moves element (i, j, k) to the permuted index', () => {
    const array = { data: Int16Array.from({ length: 24 }, (_, i) => i), shape: [2, 3, 4] };
    const out = transpose(array, [2, 0, 1]);
    expect(out.shape).toEqual([4, 2, 3]);
    // out[k][i][j] = in[i][j][k] = i*12 + j*4 + k
    expect(out.data[1 * 6 + 1 * 3 + 2]).toBe(1 * 12 + 2 * 4 + 1);
    expect(out.data).toBeInstanceOf(Int16Array);
  });

  it('toCanonicalOrder turns YXC into CYX', () => {
    const array = { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), shape: [1, 2, 3] };
    const { array: out, axes } = toCanonicalOrder(array, 'YXC');
    expect(axes).toBe('CYX');
    expect(out.shape).toEqual([3, 1, 2]);
    expect(Array.from(out.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
