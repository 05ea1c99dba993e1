import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toPredictionNormalization } from '../../src/careamist/index.js';
import {
  createStatsAccumulator,
  denormalize,
  MEAN_STD_EPS,
  type NormalizationStats,
  normalize,
  QuantileEstimator,
  WelfordStatistics,
} from '../../src/data/normalization.js';

const float = fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true });

function twoPass(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe('WelfordStatistics', () => {
  it('matches the two-pass mean and std per channel, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(float, { minLength: 2, maxLength: 30 }), { minLength: 1, maxLength: 6 }),
        (chunks) => {
          // Each chunk is a (C=2, Y=1, X=N) array; channel 1 is channel 0 scaled and shifted.
          const acc = new WelfordStatistics(2);
          const all: number[][] = [[], []];
          for (const chunk of chunks) {
            const other = chunk.map((v) => 3 * v + 5);
            acc.update({ data: new Float64Array([...chunk, ...other]), shape: [2, 1, chunk.length] }, 'CYX');
            all[0].push(...chunk);
            all[1].push(...other);
          }
          const stats = acc.finalize();
          if (stats.name !== 'mean_std') throw new Error('wrong stats');
          for (const ch of [0, 1]) {
            const ref = twoPass(all[ch]);
            expect(Math.abs(stats.means[ch] - ref.mean)).toBeLessThan(1e-9 * (1 + Math.abs(ref.mean)));
            expect(Math.abs(stats.stds[ch] - ref.std)).toBeLessThan(1e-7 * (1 + ref.std));
          }
        },
      ),
    );
  });

  it('finds the channel axis anywhere (YXC) and across samples (SCYX)', () => {
    const yxc = new WelfordStatistics(2);
    yxc.update({ data: new Float32Array([1, 10, 2, 20, 3, 30, 4, 40]), shape: [2, 2, 2] }, 'YXC');
    const scyx = new WelfordStatistics(2);
    scyx.update({ data: new Float32Array([1, 2, 10, 20, 3, 4, 30, 40]), shape: [2, 2, 1, 2] }, 'SCYX');
    for (const acc of [yxc, scyx]) {
      const s = acc.finalize();
      if (s.name !== 'mean_std') throw new Error('wrong stats');
      expect(s.means).toEqual([2.5, 25]);
      expect(s.stds[0]).toBeCloseTo(Math.sqrt(1.25), 12);
      expect(s.stds[1]).toBeCloseTo(10 * Math.sqrt(1.25), 12);
    }
  });
});

describe('min_max and quantile statistics', () => {
  it('min_max tracks extremes over many arrays', () => {
    const acc = createStatsAccumulator('min_max', 1);
    acc.update({ data: new Uint16Array([5, 9, 7, 3]), shape: [2, 2] }, 'YX');
    acc.update({ data: new Uint16Array([8, 12]), shape: [1, 2] }, 'YX');
    expect(acc.finalize()).toEqual({ name: 'min_max', mins: [3], maxes: [12] });
  });

  it('quantiles of integer data are exact and of float data within one bin', () => {
    const ints = new QuantileEstimator([0.01], [0.99]);
    const values = Uint16Array.from({ length: 10_001 }, (_, i) => i);
    ints.update({ data: values.subarray(0, 5000), shape: [1, 5000] }, 'YX');
    ints.update({ data: values.subarray(5000), shape: [1, 5001] }, 'YX');
    const s = ints.finalize();
    if (s.name !== 'quantile') throw new Error('wrong stats');
    expect(s.lowers[0]).toBe(100);
    expect(s.uppers[0]).toBe(9900);

    const floats = createStatsAccumulator('quantile', 1);
    const f = Float32Array.from({ length: 100_000 }, (_, i) => i / 1000);
    // Out-of-range later chunks force re-binning: low values last.
    floats.update({ data: f.subarray(50_000), shape: [1, 50_000] }, 'YX');
    floats.update({ data: f.subarray(0, 50_000), shape: [1, 50_000] }, 'YX');
    const q = floats.finalize();
    if (q.name !== 'quantile') throw new Error('wrong stats');
    expect(Math.abs(q.lowers[0] - 1)).toBeLessThan(0.01);
    expect(Math.abs(q.uppers[0] - 99)).toBeLessThan(0.01);
  });
});

describe('normalize / denormalize', () => {
  const statsArb: fc.Arbitrary<NormalizationStats> = fc.oneof(
    fc.record({
      name: fc.constant('mean_std' as const),
      means: fc.array(float, { minLength: 3, maxLength: 3 }),
      stds: fc.array(fc.float({ min: Math.fround(0.01), max: 500, noNaN: true }), {
        minLength: 3,
        maxLength: 3,
      }),
    }),
    fc
      .tuple(fc.array(float, { minLength: 3, maxLength: 3 }), fc.float({ min: 1, max: 1000, noNaN: true }))
      .map(([mins, w]) => ({ name: 'min_max' as const, mins, maxes: mins.map((m) => m + w) })),
    fc.tuple(float, fc.float({ min: 1, max: 1000, noNaN: true })).map(([lo, w]) => ({
      name: 'quantile' as const,
      lowerQuantiles: [0.01],
      upperQuantiles: [0.99],
      lowers: [lo],
      uppers: [lo + w],
    })),
    fc.constant({ name: 'none' as const }),
  );

  it('denormalize ∘ normalize is the identity within float32 tolerance', () => {
    fc.assert(
      fc.property(statsArb, fc.array(float, { minLength: 12, maxLength: 12 }), (stats, values) => {
        const array = { data: Float32Array.from(values), shape: [3, 2, 2] };
        const back = denormalize(normalize(array, 'CYX', stats), 'CYX', stats);
        expect(back.shape).toEqual([3, 2, 2]);
        back.data.forEach((v, i) => {
          expect(Math.abs(v - array.data[i])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(array.data[i])));
        });
      }),
    );
  });

  it('uses (x − μ)/(σ + 1e-6) on the right channel', () => {
    const stats: NormalizationStats = { name: 'mean_std', means: [1, 100], stds: [2, 10] };
    const out = normalize({ data: new Uint8Array([3, 3, 110, 90]), shape: [1, 2, 1, 2] }, 'SCYX', stats);
    expect(Array.from(out.data)).toEqual(
      [2 / (2 + 1e-6), 2 / (2 + 1e-6), 10 / (10 + 1e-6), -10 / (10 + 1e-6)].map(Math.fround),
    );
  });

  it("prediction's (x − mean)/(std + 1e-6) reproduces normalize for every normalization, mean/std exactly", () => {
    fc.assert(
      fc.property(statsArb, fc.array(float, { minLength: 12, maxLength: 12 }), (stats, values) => {
        const { mean, std } = toPredictionNormalization({ input: stats });
        const array = { data: Float32Array.from(values), shape: [3, 2, 2] };
        const pick = (v: number[], c: number) => v[v.length === 1 ? 0 : c];
        normalize(array, 'CYX', stats).data.forEach((v, i) => {
          const c = Math.floor(i / 4);
          const expected = (array.data[i] - pick(mean, c)) / (pick(std, c) + MEAN_STD_EPS);
          expect(Math.abs(v - expected)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(expected)));
        });
        if (stats.name === 'mean_std') expect(std).toEqual(stats.stds);
      }),
    );
  });

  it('rejects stats with the wrong channel count', () => {
    const stats: NormalizationStats = { name: 'mean_std', means: [0, 0], stds: [1, 1] };
    expect(() => normalize({ data: new Float32Array(3), shape: [3, 1, 1] }, 'CYX', stats)).toThrow(
      /channels/,
    );
  });
});
