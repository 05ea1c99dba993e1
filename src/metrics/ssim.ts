import { MetricsError } from './errors.js';

export interface SsimOptions {
  /** Range of the data (max − min possible), required as in skimage for float images. */
  dataRange: number;
  /** Gaussian window σ (default 1.5; the window spans ±round(3.5 σ), 11 pixels). */
  sigma?: number;
  k1?: number;
  k2?: number;
}

/** scipy's `_gaussian_kernel1d`: exp(−x²/2σ²) on x ∈ [−r, r], r = int(3.5 σ + 0.5), normalised to sum 1. */
export function gaussianKernel(sigma: number, truncate = 3.5): Float64Array {
  const radius = Math.floor(truncate * sigma + 0.5);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    const w = Math.exp((-0.5 * x * x) / (sigma * sigma));
    kernel[x + radius] = w;
    sum += w;
  }
  return kernel.map((w) => w / sum);
}

/** scipy.ndimage's `reflect` boundary (d c b a | a b c d | d c b a), folded as often as needed. */
function mirror(index: number, size: number): number {
  const period = 2 * size;
  const folded = ((index % period) + period) % period;
  return folded < size ? folded : period - 1 - folded;
}

/** Separable Gaussian filter along every axis, as `scipy.ndimage.gaussian_filter(mode='reflect')`. */
export function gaussianFilter(
  data: Float64Array,
  shape: readonly number[],
  kernel: Float64Array,
): Float64Array {
  const radius = (kernel.length - 1) / 2;
  let current = data;
  let inner = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const size = shape[axis]!;
    const outer = data.length / (size * inner);
    const next = new Float64Array(data.length);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        const base = o * size * inner + k;
        for (let i = 0; i < size; i++) {
          let acc = 0;
          for (let t = -radius; t <= radius; t++)
            acc += kernel[t + radius]! * current[base + mirror(i + t, size) * inner]!;
          next[base + i * inner] = acc;
        }
      }
    }
    current = next;
    inner *= size;
  }
  return current;
}

/**
 * Mean structural similarity of two images (2D or 3D, one channel), as skimage `structural_similarity(im1,
 * im2, data_range, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`: Gaussian-weighted local
 * means, variances and covariance, K1 = 0.01, K2 = 0.03, averaged away from a border of half the window.
 */
export function ssim(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: readonly number[],
  options: SsimOptions,
): number {
  const { dataRange, sigma = 1.5, k1 = 0.01, k2 = 0.03 } = options;
  const kernel = gaussianKernel(sigma);
  const size = shape.reduce((p, s) => p * s, 1);
  if (a.length !== size || b.length !== size) {
    throw new MetricsError('SizeMismatch', 'ssim', `images must both have shape [${shape.join(', ')}]`);
  }
  if (shape.some((s) => s < kernel.length)) {
    throw new MetricsError(
      'ImageTooSmall',
      'ssim',
      `every axis must be at least the window (${kernel.length})`,
    );
  }
  const x = Float64Array.from(a);
  const y = Float64Array.from(b);
  const filter = (values: Float64Array) => gaussianFilter(values, shape, kernel);
  const ux = filter(x);
  const uy = filter(y);
  const uxx = filter(x.map((v) => v * v));
  const uyy = filter(y.map((v) => v * v));
  const uxy = filter(x.map((v, i) => v * y[i]!));
  const c1 = (k1 * dataRange) ** 2;
  const c2 = (k2 * dataRange) ** 2;
  const pad = (kernel.length - 1) / 2;
  let sum = 0;
  let count = 0;
  forEachInterior(shape, pad, (i) => {
    const vx = uxx[i]! - ux[i]! * ux[i]!;
    const vy = uyy[i]! - uy[i]! * uy[i]!;
    const vxy = uxy[i]! - ux[i]! * uy[i]!;
    const numerator = (2 * ux[i]! * uy[i]! + c1) * (2 * vxy + c2);
    const denominator = (ux[i]! ** 2 + uy[i]! ** 2 + c1) * (vx + vy + c2);
    sum += numerator / denominator;
    count += 1;
  });
  return sum / count;
}

/** Calls `visit(flatIndex)` for every element at least `pad` away from each border. */
function forEachInterior(shape: readonly number[], pad: number, visit: (index: number) => void): void {
  const walk = (axis: number, base: number): void => {
    const size = shape[axis]!;
    for (let i = pad; i < size - pad; i++) {
      const index = base * size + i;
      if (axis === shape.length - 1) visit(index);
      else walk(axis + 1, index);
    }
  };
  walk(0, 0);
}
