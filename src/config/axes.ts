/** Axes validation, as CAREamics' `config/validators/axes_validators.py`. */

export const SUPPORTED_AXES = 'STCZYX';

export interface AxesRules {
  /**
   * Y and X next to each other, as CAREamics requires of data (default). Prediction outputs and in-memory arrays
   * may order their axes freely (`YTX`), so prediction relaxes this.
   */
  adjacentYX?: boolean;
}

/**
 * What is wrong with an axes string (upper case), or `undefined` when nothing is: the one axes rule of
 * careamics-js, as CAREamics' `check_axes_validity` — 2 to 6 distinct letters of `STCZYX`, Y and X adjacent.
 * Callers add where the axes came from (a config field, a file, an array's shape).
 */
export function axesProblem(axes: string, rules: AxesRules = {}): string | undefined {
  const foreign = [...axes].filter((letter) => !SUPPORTED_AXES.includes(letter));
  if (foreign.length > 0) return `letter(s) ${[...new Set(foreign)].join(', ')} not in ${SUPPORTED_AXES}`;
  const repeated = [...axes].filter((letter, i) => axes.indexOf(letter) !== i);
  if (repeated.length > 0) return `duplicate axis ${[...new Set(repeated)].join(', ')}`;
  if (axes.length < 2 || axes.length > 6) return 'must have between 2 and 6 letters';
  if (rules.adjacentYX === false) {
    if (!axes.includes('Y') || !axes.includes('X')) return 'Y and X must both be present';
  } else if (!axes.includes('YX') && !axes.includes('XY')) {
    return 'Y and X must both be present and adjacent';
  }
  return undefined;
}

/** CZI axes are `SC(Z|T)YX`: S and C mandatory, Z or T optional (not both), in that order. */
export function isValidCziAxes(axes: string): boolean {
  const set = new Set(axes);
  if ([...set].some((a) => !'SCZTYX'.includes(a))) return false;
  if (!['S', 'C', 'Y', 'X'].every((a) => set.has(a))) return false;
  if (set.has('Z') && set.has('T')) return false;
  const order = set.has('Z') ? 'SCZYX' : 'SCTYX';
  let last = -1;
  for (const a of axes) {
    const idx = order.indexOf(a);
    if (idx < last) return false;
    last = idx;
  }
  return true;
}

/** Whether `axes` describe 3D data: Z present, or for CZI Z or T. */
export function isAxes3D(axes: string, dataType: string): boolean {
  return dataType === 'czi' ? axes.includes('Z') || axes.includes('T') : axes.includes('Z');
}
