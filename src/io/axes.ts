import { type AxesRules, axesProblem } from '../config/axes.js';
import { IoError } from './errors.js';
import { AXIS_ORDER } from './types.js';

/**
 * Checks an axes string against the one axes rule (`config/axes`) and against the array's shape: one letter per
 * dimension. Returns the axes in upper case; throws `AxesMismatch` naming the file and what is wrong.
 */
export function validateAxes(
  axes: string,
  shape: readonly number[],
  file = '<memory>',
  rules: AxesRules = {},
): string {
  const upper = axes.toUpperCase();
  const problem =
    axesProblem(upper, rules) ??
    (upper.length !== shape.length
      ? `${upper.length} letters but the array has ${shape.length} dimensions`
      : undefined);
  if (problem) {
    throw new IoError('AxesMismatch', file, `axes "${axes}" for shape [${shape.join(', ')}]: ${problem}`);
  }
  return upper;
}

/** Default axes per number of dimensions: the trailing letters of OME-NGFF's t, c, z, y, x order. */
const DEFAULT_AXES: Record<number, string> = { 2: 'YX', 3: 'ZYX', 4: 'CZYX', 5: 'TCZYX', 6: 'STCZYX' };

/**
 * Axes for an array whose file did not say: `hint` (e.g. from ImageJ or OME metadata) when it fits the shape,
 * else the trailing letters of `TCZYX`. A guess: callers who know better pass axes explicitly.
 */
export function guessAxes(shape: readonly number[], hint?: string): string {
  if (hint !== undefined) {
    try {
      return validateAxes(hint, shape);
    } catch {
      // The hint did not fit this shape; fall back to the default for its rank.
    }
  }
  const axes = DEFAULT_AXES[shape.length];
  if (axes === undefined) {
    throw new IoError(
      'AxesMismatch',
      '<memory>',
      `cannot guess axes for a ${shape.length}-d shape [${shape}]`,
    );
  }
  return axes;
}

/** The permutation that sorts `axes` into `STCZYX` order, e.g. `YXC` → `[2, 0, 1]` (giving `CYX`). */
export function canonicalPermutation(axes: string): number[] {
  return [...axes]
    .map((_, i) => i)
    .sort((a, b) => AXIS_ORDER.indexOf(axes[a]!) - AXIS_ORDER.indexOf(axes[b]!));
}
