import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  extractPlane,
  memoryProblem,
  percentiles,
  sliceAxes,
  toRgba,
  valueRange,
} from '../../web/src/image.js';

describe('extractPlane', () => {
  // value = 100 z + 10 y + x for a 2×3×4 ZYX stack
  const shape = [2, 3, 4];
  const data = Float32Array.from(
    { length: 24 },
    (_, i) => 100 * Math.floor(i / 12) + 10 * Math.floor((i % 12) / 4) + (i % 4),
  );

  it('takes the YX plane at the slider positions', () => {
    const plane = extractPlane(data, shape, 'ZYX', { Z: 1 });
    expect([plane.height, plane.width]).toEqual([3, 4]);
    expect(Array.from(plane.data)).toEqual([100, 101, 102, 103, 110, 111, 112, 113, 120, 121, 122, 123]);
  });

  it('handles X before Y and clamps positions', () => {
    const transposed = extractPlane(data, [2, 4, 3], 'ZXY', { Z: 5 });
    expect([transposed.height, transposed.width]).toEqual([3, 4]);
    // element (z=1, x, y) of the ZXY array sits at 12 + 3x + y
    expect(transposed.data[1 * 4 + 2]).toBe(data[12 + 3 * 2 + 1]);
  });

  it('lists the axes that need a slider', () => {
    expect(sliceAxes('TCZYX')).toEqual(['T', 'C', 'Z']);
    expect(sliceAxes('YX')).toEqual([]);
  });
});

describe('percentiles', () => {
  it('interpolates between sorted values and ignores NaN', () => {
    const data = Float32Array.from([4, Number.NaN, 0, 2, 1, 3]);
    expect(percentiles(data, [0, 50, 100, 12.5])).toEqual([0, 2, 4, 0.5]);
  });

  it('stays within the data range and is monotone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1 }),
        (values) => {
          const [lo, mid, hi] = percentiles(Float32Array.from(values), [1, 50, 99.8]);
          const [min, max] = valueRange(Float32Array.from(values));
          return min <= lo! && lo! <= mid! && mid! <= hi! && hi! <= max;
        },
      ),
    );
  });
});

describe('toRgba', () => {
  it('maps low to black and high to white, clipping outside', () => {
    const rgba = toRgba({ data: Float32Array.from([-1, 0, 5, 10, 20]), width: 5, height: 1 }, 0, 10);
    expect([0, 4, 8, 12, 16].map((i) => rgba[i])).toEqual([0, 0, 128, 255, 255]);
    expect(rgba[3]).toBe(255);
  });
});

describe('memoryProblem', () => {
  it('accepts up to 1 GiB of float32 and names the file when refusing more', () => {
    expect(memoryProblem([256, 1024, 1024], 'a.tif')).toBeUndefined();
    expect(memoryProblem([257, 1024, 1024], 'big.tif')).toMatch(/^big\.tif is too large .*1\.0 GiB/);
  });
});
