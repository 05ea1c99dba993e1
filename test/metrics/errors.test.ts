import { describe, expect, it } from 'vitest';
import { isCareamicsError } from '../../src/errors.js';
import {
  fitScaleOffset,
  isMetricsError,
  type MetricsErrorTag,
  psnr,
  scaleInvariantPsnr,
  ssim,
} from '../../src/metrics/index.js';

/** The error `fn` throws, checked to be a MetricsError with `tag` naming `metric`. */
function metricsFailure(fn: () => unknown, tag: MetricsErrorTag, metric: string) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isMetricsError(err, tag), `expected MetricsError ${tag}, got ${String(err)}`).toBe(true);
  expect(isCareamicsError(err, tag)).toBe(true);
  expect(err).toMatchObject({ metric, message: expect.stringMatching(new RegExp(`^${metric}: `)) });
}

describe('metrics refuse images they cannot compare with a tagged MetricsError', () => {
  it('SizeMismatch', () => {
    metricsFailure(() => psnr([1, 2, 3], [1, 2], 1), 'SizeMismatch', 'meanSquaredError');
    metricsFailure(() => fitScaleOffset([1, 2], [1]), 'SizeMismatch', 'fitScaleOffset');
    metricsFailure(
      () => ssim(new Float64Array(100), new Float64Array(99), [10, 10], { dataRange: 1 }),
      'SizeMismatch',
      'ssim',
    );
  });

  it('EmptyImage', () => {
    metricsFailure(() => scaleInvariantPsnr([], []), 'EmptyImage', 'scaleInvariantPsnr');
  });

  it('ImageTooSmall', () => {
    metricsFailure(
      () => ssim(new Float64Array(100), new Float64Array(100), [10, 10], { dataRange: 1 }),
      'ImageTooSmall',
      'ssim',
    );
  });

  it('isMetricsError tells the tags apart', () => {
    let err: unknown;
    try {
      psnr([1], [1, 2], 1);
    } catch (e) {
      err = e;
    }
    expect(isMetricsError(err)).toBe(true);
    expect(isMetricsError(err, 'EmptyImage', 'ImageTooSmall')).toBe(false);
    expect(isMetricsError(new Error('SizeMismatch'))).toBe(false);
  });
});
