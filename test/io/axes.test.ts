import { describe, expect, it } from 'vitest';
import { canonicalPermutation, guessAxes, validateAxes } from '../../src/io/axes.js';
import { isIoError } from '../../src/io/errors.js';

function problemOf(axes: string, shape: number[]): string {
  try {
    validateAxes(axes, shape, 'stack.tif');
  } catch (err) {
    if (isIoError(err, 'AxesMismatch')) {
      expect(err.file).toBe('stack.tif');
      return err.message;
    }
    throw err;
  }
  return 'valid';
}

describe('validateAxes', () => {
  it('accepts CAREamics axes and upper-cases them', () => {
    expect(validateAxes('yx', [4, 5])).toBe('YX');
    expect(validateAxes('SYX', [2, 4, 5])).toBe('SYX');
    expect(validateAxes('SCZYX', [1, 2, 3, 4, 5])).toBe('SCZYX');
    expect(validateAxes('YXC', [4, 5, 3])).toBe('YXC');
    expect(validateAxes('STCZYX', [1, 1, 1, 1, 4, 5])).toBe('STCZYX');
  });

  it('names the exact problem', () => {
    expect(problemOf('ZYX', [4, 5])).toMatch(/stack\.tif: .*3 letters but the array has 2 dimensions/);
    expect(problemOf('YYX', [1, 4, 5])).toMatch(/duplicate axis Y/);
    expect(problemOf('QYX', [1, 4, 5])).toMatch(/Q not in STCZYX/);
    expect(problemOf('YZX', [4, 1, 5])).toMatch(/Y and X must both be present and adjacent/);
    expect(problemOf('ZY', [4, 5])).toMatch(/Y and X/);
    expect(problemOf('X', [5])).toMatch(/between 2 and 6/);
  });
});

describe('guessAxes', () => {
  it('uses a fitting hint, else the trailing TCZYX letters', () => {
    expect(guessAxes([4, 5])).toBe('YX');
    expect(guessAxes([3, 4, 5])).toBe('ZYX');
    expect(guessAxes([3, 4, 5], 'SYX')).toBe('SYX');
    expect(guessAxes([3, 4, 5], 'TZYX')).toBe('ZYX');
    expect(guessAxes([2, 3, 4, 5])).toBe('CZYX');
    expect(guessAxes([1, 2, 3, 4, 5])).toBe('TCZYX');
    expect(() => guessAxes([5])).toThrow(/cannot guess axes/);
  });
});

it('canonicalPermutation sorts axes into STCZYX order', () => {
  expect(canonicalPermutation('YXC')).toEqual([2, 0, 1]);
  expect(canonicalPermutation('TZCYX')).toEqual([0, 2, 1, 3, 4]);
});
