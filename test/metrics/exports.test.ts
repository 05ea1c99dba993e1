import { describe, expect, it } from 'vitest';
import * as metrics from '../../src/metrics/index.js';

describe('public exports', () => {
  it('do not change by accident', () => {
    expect(Object.keys(metrics).sort()).toEqual([
      'MetricsError',
      'fitScaleOffset',
      'gaussianFilter',
      'gaussianKernel',
      'isMetricsError',
      'meanSquaredError',
      'psnr',
      'scaleInvariantPsnr',
      'ssim',
    ]);
  });
});
