import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBmzError } from '../../src/bmz/index.js';
import { compileProcessing, type NamedTensor, splitSampleStandardization } from '../../src/bmz/processing.js';
import { minimumSize, postprocessing, preprocessing, receptiveRadius, unetHalo } from '../../src/bmz/rdf.js';

const AXES = ['batch', 'channel', 'y', 'x'];
const tensor = (values: number[], shape: number[]): NamedTensor => ({
  data: Float32Array.from(values),
  shape,
  axes: AXES,
});

describe('BMZ processing op table', () => {
  it('fixed_zero_mean_unit_variance along the channel axis: (x − mean_c)/(std_c + 1e-6)', () => {
    const t = tensor([10, 12, 100, 104], [1, 2, 1, 2]);
    compileProcessing(
      [{ id: 'fixed_zero_mean_unit_variance', kwargs: { axis: 'channel', mean: [10, 100], std: [2, 4] } }],
      'p',
    )(t);
    expect(Array.from(t.data)).toEqual([0, 2 / (2 + 1e-6), 0, 4 / (4 + 1e-6)].map(Math.fround));
  });

  it('our postprocessing inverts our preprocessing (CAREamics normalize ∘ denormalize = identity)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1000, max: 1000, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.tuple(
          fc.double({ min: -500, max: 500, noNaN: true }),
          fc.double({ min: 1e-3, max: 500, noNaN: true }),
        ),
        (values, [mean, std]) => {
          const stats = { means: [mean, -mean], stds: [std, std * 2] };
          const t = tensor(values, [1, 2, 1, 2]);
          compileProcessing(preprocessing(stats), 'pre')(t);
          compileProcessing(postprocessing(stats), 'post')(t);
          for (let i = 0; i < values.length; i++)
            expect(Math.abs(t.data[i] - values[i])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(values[i])));
        },
      ),
    );
  });

  it('zero_mean_unit_variance standardizes each sample and channel over the given axes', () => {
    const t = tensor([1, 2, 3, 4, 10, 20, 30, 40], [2, 1, 2, 2]);
    compileProcessing([{ id: 'zero_mean_unit_variance', kwargs: { axes: ['y', 'x'] } }], 'p')(t);
    for (const sample of [t.data.subarray(0, 4), t.data.subarray(4)]) {
      const mean = sample.reduce((a, b) => a + b, 0) / 4;
      const variance = sample.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
      expect(mean).toBeCloseTo(0, 6);
      expect(variance).toBeCloseTo(1, 4);
    }
  });

  it('scale_linear with scalar kwargs, clip and sigmoid', () => {
    const t = tensor([-2, 0, 1, 3], [1, 1, 2, 2]);
    compileProcessing(
      [
        { id: 'scale_linear', kwargs: { gain: 2, offset: 1 } },
        { id: 'clip', kwargs: { min: 0, max: 5 } },
        { id: 'ensure_dtype', kwargs: { dtype: 'float32' } },
      ],
      'p',
    )(t);
    expect(Array.from(t.data)).toEqual([0, 1, 3, 5]);
    compileProcessing([{ id: 'sigmoid' }], 'p')(t);
    expect(t.data[0]).toBeCloseTo(0.5, 6);
  });

  it('splits off a leading zero_mean_unit_variance for whole-sample statistics, refusing a later one by name', () => {
    const zmuv = { id: 'zero_mean_unit_variance', kwargs: { axes: ['y', 'x'], eps: 1e-5 } };
    const cast = { id: 'ensure_dtype', kwargs: { dtype: 'float32' } };
    const scale = { id: 'scale_linear', kwargs: { gain: 2 } };
    expect(splitSampleStandardization([scale], 'p')).toBeUndefined();
    expect(splitSampleStandardization([cast, zmuv, scale], 'p')).toEqual({
      axes: ['y', 'x'],
      eps: 1e-5,
      rest: [cast, scale],
    });
    expect(splitSampleStandardization([{ id: 'zero_mean_unit_variance' }], 'p')).toEqual({
      axes: undefined,
      eps: 1e-6,
      rest: [],
    });
    const message = (steps: { id: string }[]) => {
      try {
        splitSampleStandardization(steps, 'p');
      } catch (err) {
        return isBmzError(err) ? err.message : 'not a BmzError';
      }
      return 'accepted';
    };
    expect(message([scale, zmuv])).toMatch(
      /^rdf\.yaml: p\[1\] \(zero_mean_unit_variance\): careamics-js computes whole-sample/,
    );
    expect(message([zmuv, zmuv])).toMatch(/^rdf\.yaml: p\[1\] \(zero_mean_unit_variance\)/);
  });

  it('refuses unknown steps, percentile clipping and kwargs of the wrong length when compiled', () => {
    const refuses = (steps: Parameters<typeof compileProcessing>[0]) => {
      try {
        compileProcessing(steps, 'inputs[0].preprocessing');
      } catch (err) {
        return isBmzError(err, 'UnsupportedProcessing');
      }
      return false;
    };
    expect(refuses([{ id: 'scale_range' }])).toBe(true);
    expect(refuses([{ id: 'clip', kwargs: { max_percentile: 99 } }])).toBe(true);
    expect(refuses([{ id: 'fixed_zero_mean_unit_variance', kwargs: { mean: [1, 2], std: [1] } }])).toBe(true);
    const t = tensor([1, 2, 3], [1, 3, 1, 1]);
    const wrongLength = compileProcessing(
      [{ id: 'scale_linear', kwargs: { axis: 'channel', gain: [1, 2] } }],
      'p',
    );
    expect(() => wrongLength(t)).toThrow(/2 values for axis "channel" of size 3/);
  });
});

describe('UNet halo and minimum size', () => {
  it('halo = receptive radius rounded up to 2**(depth−1); minimum size leaves a pixel inside the halos', () => {
    const cases = [
      { depth: 1, n2v2: false, radius: 10, halo: 10, min: 22 },
      { depth: 2, n2v2: false, radius: 26, halo: 26, min: 56 },
      { depth: 2, n2v2: true, radius: 29, halo: 30, min: 64 },
      { depth: 3, n2v2: false, radius: 58, halo: 60, min: 128 },
    ];
    for (const { radius, halo, min, ...a } of cases)
      expect([receptiveRadius(a), unetHalo(a), minimumSize(a)]).toEqual([radius, halo, min]);
  });
});
