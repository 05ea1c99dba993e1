import { describe, expect, it } from 'vitest';
import { fitScaleOffset, psnr, scaleInvariantPsnr, ssim } from '../../src/metrics/index.js';

/** The images of the reference script: a = (Σ i_k (7 + 6k) mod 31) · 8, b = a + 3 ((Π (i_k + 1) · 17 mod 11) − 5). */
function referenceImages(shape: number[]): { a: Float64Array; b: Float64Array } {
  const size = shape.reduce((p, s) => p * s, 1);
  const a = new Float64Array(size);
  const b = new Float64Array(size);
  for (let flat = 0; flat < size; flat++) {
    let rest = flat;
    let sum = 0;
    let prod = 1;
    for (let k = shape.length - 1; k >= 0; k--) {
      const i = rest % shape[k]!;
      rest = Math.floor(rest / shape[k]!);
      sum += i * (7 + 6 * k);
      prod *= i + 1;
    }
    a[flat] = (sum % 31) * 8;
    b[flat] = a[flat]! + (((prod * 17) % 11) - 5) * 3;
  }
  return { a, b };
}

// Reference values from numpy 1.24 + scipy 1.10, re-implementing skimage 0.22 `structural_similarity(
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False)` with `scipy.ndimage.gaussian_filter(
// mode='reflect', truncate=3.5)`, and CAREamics `scale_invariant_psnr` line by line.
const REFERENCE = [
  { shape: [16, 20], ssim: 0.9905172832157004, ssimAffine: 0.7402423245194448, sipsnr: 28.092221371552377 },
  {
    shape: [12, 13, 14],
    ssim: 0.9919949286385047,
    ssimAffine: 0.7383795917026618,
    sipsnr: 27.500232595872877,
  },
];

describe('psnr', () => {
  it('is 10 log10(range² / mse) on a hand-checked case', () => {
    // mse = (1² + 3²) / 4 = 2.5, range 10 → 10 log10(40).
    expect(psnr([0, 0, 0, 0], [1, 0, 3, 0], 10)).toBeCloseTo(10 * Math.log10(40), 12);
  });

  it('is infinite for identical images and 20 log10(range/σ) for a constant error', () => {
    expect(psnr([1, 2, 3], [1, 2, 3], 1)).toBe(Number.POSITIVE_INFINITY);
    expect(psnr([0, 0], [2, 2], 255)).toBeCloseTo(20 * Math.log10(255 / 2), 12);
  });
});

describe('scaleInvariantPsnr', () => {
  it.each(REFERENCE)('matches CAREamics on $shape', ({ shape, sipsnr }) => {
    const { a, b } = referenceImages(shape);
    expect(scaleInvariantPsnr(a, b)).toBeCloseTo(sipsnr, 9);
  });

  it('ignores an affine change of the prediction', () => {
    const { a, b } = referenceImages([16, 20]);
    expect(
      scaleInvariantPsnr(
        a,
        b.map((v) => 0.3 * v - 7),
      ),
    ).toBeCloseTo(scaleInvariantPsnr(a, b), 9);
  });
});

describe('ssim', () => {
  it('is 1 for identical images', () => {
    const { a } = referenceImages([16, 20]);
    expect(ssim(a, a, [16, 20], { dataRange: 255 })).toBeCloseTo(1, 12);
  });

  it.each(REFERENCE)('matches the scipy reference on $shape', ({ shape, ssim: expected, ssimAffine }) => {
    const { a, b } = referenceImages(shape);
    expect(ssim(a, b, shape, { dataRange: 255 })).toBeCloseTo(expected, 10);
    expect(
      ssim(
        a,
        a.map((v) => 0.5 * v + 20),
        shape,
        { dataRange: 255 },
      ),
    ).toBeCloseTo(ssimAffine, 10);
  });

  it('refuses images smaller than the window', () => {
    expect(() => ssim(new Float64Array(100), new Float64Array(100), [10, 10], { dataRange: 1 })).toThrow(
      /window/,
    );
  });
});

describe('fitScaleOffset', () => {
  it('recovers an exact affine map and the least-squares line otherwise', () => {
    const x = [0, 1, 2, 3, 4];
    expect(
      fitScaleOffset(
        x,
        x.map((v) => 2.5 * v - 1),
      ),
    ).toEqual({ scale: 2.5, offset: -1 });
    // y = 0, 1, 1, 3 on x = 0..3: slope 4.5 / 5 = 0.9, intercept 1.25 − 0.9 · 1.5 = −0.1.
    const fit = fitScaleOffset([0, 1, 2, 3], [0, 1, 1, 3]);
    expect(fit.scale).toBeCloseTo(0.9, 12);
    expect(fit.offset).toBeCloseTo(-0.1, 12);
  });
});
