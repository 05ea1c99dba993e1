/** Axes validation, as CAREamics' `config/validators/axes_validators.py`. */

export const SUPPORTED_AXES = 'STCZYX';

/** Why `axes` is not a valid axes string for non-CZI data, or `undefined` when it is. */
export function axesProblem(axes: string): string | undefined {
  if (axes.length < 2 || axes.length > 6)
    return `invalid axes "${axes}": must contain at least 2 and at most 6 axes`;
  if (!axes.includes('YX') && !axes.includes('XY'))
    return `invalid axes "${axes}": must contain X and Y next to each other`;
  for (const a of axes) {
    if (!SUPPORTED_AXES.includes(a))
      return `invalid axes "${axes}": must be a combination of ${SUPPORTED_AXES}`;
  }
  for (let i = 0; i < axes.length; i++) {
    if (axes.lastIndexOf(axes[i]!) !== i) return `invalid axes "${axes}": duplicate axis ${axes[i]}`;
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
