/**
 * Image quality metrics as CAREamics reports them: PSNR, scale-invariant PSNR, SSIM, and a least-squares
 * scale/offset fit.
 *
 * @example
 * const db = scaleInvariantPsnr(groundTruth, prediction);
 * const s = ssim(groundTruth, prediction, [512, 512], { dataRange: 255 });
 */
export { isMetricsError, MetricsError, type MetricsErrorTag } from './errors.js';
export { fitScaleOffset, meanSquaredError, psnr, scaleInvariantPsnr } from './psnr.js';
export { gaussianFilter, gaussianKernel, type SsimOptions, ssim } from './ssim.js';
