/**
 * Normalization statistics and transforms (CAREamics `dataset/normalization/`). Statistics are per channel,
 * accumulated from any number of arrays (patches or whole images) and are plain JSON objects.
 */
import type { NormalizationConfig } from '../config/normalization.js';
import type { NDArray, TypedArray } from '../io/types.js';
import { DataError } from './errors.js';
import { type ChannelLayout, channelLayout, forEachChannelRun } from './layout.js';

export type NormalizationName = NormalizationConfig['name'];

export type NormalizationStats =
  | { name: 'mean_std'; means: number[]; stds: number[] }
  | { name: 'min_max'; mins: number[]; maxes: number[] }
  | {
      name: 'quantile';
      lowerQuantiles: number[];
      upperQuantiles: number[];
      lowers: number[];
      uppers: number[];
    }
  | { name: 'none' };

/** CAREamics' epsilons: (x−μ)/(σ+1e‑6) for mean/std, (x−lo)/(hi−lo+1e‑8) for ranges. */
export const MEAN_STD_EPS = 1e-6;
export const RANGE_EPS = 1e-8;

/** Streams arrays in, one statistics object out. */
export interface StatsAccumulator {
  update(array: NDArray, axes: string): void;
  finalize(): NormalizationStats;
}

function checkChannels(expected: number, layout: ChannelLayout): void {
  if (layout.channels !== expected) {
    throw new DataError('ChannelMismatch', `expected ${expected} channels, got ${layout.channels}`);
  }
}

/**
 * Per-channel mean and population std (numpy `std`, ddof 0), streamed: each array's chunk statistics are
 * merged with Chan et al.'s parallel Welford update, which is as stable as Welford and much faster in JS.
 */
export class WelfordStatistics implements StatsAccumulator {
  readonly count: Float64Array;
  readonly mean: Float64Array;
  readonly m2: Float64Array;

  constructor(readonly nChannels: number) {
    this.count = new Float64Array(nChannels);
    this.mean = new Float64Array(nChannels);
    this.m2 = new Float64Array(nChannels);
  }

  update(array: NDArray, axes: string): void {
    const layout = channelLayout(array.shape, axes);
    checkChannels(this.nChannels, layout);
    forEachChannelRun(layout, (ch, start, end) => this.addRun(ch, array.data, start, end));
  }

  /** Merges the values `data[start, end)` into channel (or group) `ch`. */
  addRun(ch: number, data: ArrayLike<number>, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    let sum = 0;
    for (let i = start; i < end; i++) sum += data[i];
    const mean = sum / n;
    let m2 = 0;
    for (let i = start; i < end; i++) {
      const d = data[i] - mean;
      m2 += d * d;
    }
    const total = this.count[ch] + n;
    const delta = mean - this.mean[ch];
    this.mean[ch] += (delta * n) / total;
    this.m2[ch] += m2 + (delta * delta * this.count[ch] * n) / total;
    this.count[ch] = total;
  }

  /** Population std of channel (or group) `ch`. */
  std(ch: number): number {
    return Math.sqrt(this.m2[ch] / this.count[ch]);
  }

  finalize(): NormalizationStats {
    if (Array.from(this.count).some((c) => c < 2)) {
      throw new DataError('NotEnoughData', 'mean/std need at least two values per channel');
    }
    return {
      name: 'mean_std',
      means: Array.from(this.mean),
      stds: Array.from(this.m2, (_, ch) => this.std(ch)),
    };
  }
}

export class MinMaxStatistics implements StatsAccumulator {
  private readonly mins: number[];
  private readonly maxes: number[];

  constructor(readonly nChannels: number) {
    this.mins = new Array(nChannels).fill(Number.POSITIVE_INFINITY);
    this.maxes = new Array(nChannels).fill(Number.NEGATIVE_INFINITY);
  }

  update(array: NDArray, axes: string): void {
    const layout = channelLayout(array.shape, axes);
    checkChannels(this.nChannels, layout);
    const data = array.data;
    forEachChannelRun(layout, (ch, start, end) => {
      let lo = this.mins[ch];
      let hi = this.maxes[ch];
      for (let i = start; i < end; i++) {
        const v = data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      this.mins[ch] = lo;
      this.maxes[ch] = hi;
    });
  }

  finalize(): NormalizationStats {
    if (this.mins.some((m) => !Number.isFinite(m))) {
      throw new DataError('NotEnoughData', 'min/max need at least one value per channel');
    }
    return { name: 'min_max', mins: [...this.mins], maxes: [...this.maxes] };
  }
}

/**
 * Streaming quantiles from a per-channel histogram (as CAREamics' `QuantileEstimator`, 65536 bins). When a value
 * falls outside the current range the bin width doubles by merging neighbour pairs, so counts stay exact; the
 * quantile is interpolated linearly inside its bin (exact for integer data narrower than the bin count).
 */
export class QuantileEstimator implements StatsAccumulator {
  private readonly hists: Float64Array[];
  private readonly lo: number[];
  private readonly width: number[];
  private readonly totals: number[];
  private readonly unitBins: boolean[];

  constructor(
    readonly lowerQuantiles: number[],
    readonly upperQuantiles: number[],
    readonly nBins = 65536,
  ) {
    const n = lowerQuantiles.length;
    if (upperQuantiles.length !== n) throw new RangeError('lower and upper quantiles differ in length');
    this.hists = Array.from({ length: n }, () => new Float64Array(nBins));
    this.lo = new Array(n).fill(Number.NaN);
    this.width = new Array(n).fill(Number.NaN);
    this.totals = new Array(n).fill(0);
    this.unitBins = new Array(n).fill(false);
  }

  update(array: NDArray, axes: string): void {
    const layout = channelLayout(array.shape, axes);
    checkChannels(this.lowerQuantiles.length, layout);
    const data = array.data;
    forEachChannelRun(layout, (ch, start, end) => {
      if (end === start) return;
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let i = start; i < end; i++) {
        if (data[i] < lo) lo = data[i];
        if (data[i] > hi) hi = data[i];
      }
      this.fitRange(ch, lo, hi, !(data instanceof Float32Array || data instanceof Float64Array));
      const hist = this.hists[ch];
      const base = this.lo[ch];
      const w = this.width[ch];
      for (let i = start; i < end; i++) hist[Math.min(this.nBins - 1, Math.floor((data[i] - base) / w))]++;
      this.totals[ch] += end - start;
    });
  }

  private fitRange(ch: number, lo: number, hi: number, integer: boolean): void {
    if (Number.isNaN(this.lo[ch])) {
      // Unit bins centred on integers when integer data fit (exact for uint8/uint16), else a 10% margin.
      const span = hi - lo;
      const unit = integer && span < this.nBins / 2;
      this.lo[ch] = unit ? lo - 0.5 : lo - 0.1 * span;
      this.width[ch] = unit ? 1 : (1.2 * span) / this.nBins || 1;
      this.unitBins[ch] = unit;
    }
    const hist = this.hists[ch];
    const half = this.nBins / 2;
    while (lo < this.lo[ch] || hi >= this.lo[ch] + this.width[ch] * this.nBins) {
      const growDown = lo < this.lo[ch];
      const merged = new Float64Array(this.nBins);
      const shift = growDown ? half : 0;
      for (let j = 0; j < this.nBins; j++) merged[shift + (j >> 1)] += hist[j];
      hist.set(merged);
      if (growDown) this.lo[ch] -= this.width[ch] * this.nBins;
      this.width[ch] *= 2;
      this.unitBins[ch] = false;
    }
  }

  private quantile(ch: number, q: number): number {
    const hist = this.hists[ch];
    const target = q * this.totals[ch];
    let cum = 0;
    for (let j = 0; j < this.nBins; j++) {
      const next = cum + hist[j];
      if (hist[j] > 0 && next >= target) {
        if (this.unitBins[ch]) return this.lo[ch] + j + 0.5;
        return this.lo[ch] + (j + (target - cum) / hist[j]) * this.width[ch];
      }
      cum = next;
    }
    return this.lo[ch] + this.nBins * this.width[ch];
  }

  finalize(): NormalizationStats {
    if (this.totals.some((t) => t === 0)) {
      throw new DataError('NotEnoughData', 'quantiles need at least one value per channel');
    }
    return {
      name: 'quantile',
      lowerQuantiles: [...this.lowerQuantiles],
      upperQuantiles: [...this.upperQuantiles],
      lowers: this.lowerQuantiles.map((q, ch) => this.quantile(ch, q)),
      uppers: this.upperQuantiles.map((q, ch) => this.quantile(ch, q)),
    };
  }
}

/** Options of the statistics accumulators: quantile levels default to CAREamics' 0.01 / 0.99. */
export interface StatsOptions {
  lowerQuantile?: number;
  upperQuantile?: number;
}

/**
 * A normalization as x ↦ (x − offset) / (spread + eps), per channel (one value broadcasts to all channels):
 * mean/std is (x − μ)/(σ + 1e‑6), the ranges (x − lo)/(hi − lo + 1e‑8).
 */
export interface AffineNormalization {
  offset: number[];
  spread: number[];
  eps: number;
}

type StatsNamed<N extends NormalizationName> = Extract<NormalizationStats, { name: N }>;

/** One normalization: how its statistics are accumulated and the affine map they define. */
interface NormalizationMethod<N extends NormalizationName> {
  accumulator(nChannels: number, options: StatsOptions): StatsAccumulator;
  affine(stats: StatsNamed<N>): AffineNormalization;
}

const NORMALIZATIONS: { [N in NormalizationName]: NormalizationMethod<N> } = {
  mean_std: {
    accumulator: (nChannels) => new WelfordStatistics(nChannels),
    affine: (s) => ({ offset: s.means, spread: s.stds, eps: MEAN_STD_EPS }),
  },
  min_max: {
    accumulator: (nChannels) => new MinMaxStatistics(nChannels),
    affine: (s) => ({ offset: s.mins, spread: s.maxes.map((hi, i) => hi - s.mins[i]), eps: RANGE_EPS }),
  },
  quantile: {
    accumulator: (nChannels, o) =>
      new QuantileEstimator(
        new Array(nChannels).fill(o.lowerQuantile ?? 0.01),
        new Array(nChannels).fill(o.upperQuantile ?? 0.99),
      ),
    affine: (s) => ({ offset: s.lowers, spread: s.uppers.map((hi, i) => hi - s.lowers[i]), eps: RANGE_EPS }),
  },
  none: {
    accumulator: () => ({ update() {}, finalize: () => ({ name: 'none' }) }),
    affine: () => ({ offset: [0], spread: [1], eps: 0 }),
  },
};

/** An accumulator for the named normalization. */
export function createStatsAccumulator(
  name: NormalizationName,
  nChannels: number,
  options: StatsOptions = {},
): StatsAccumulator {
  return NORMALIZATIONS[name].accumulator(nChannels, options);
}

/** The affine map the statistics define. */
export function normalizationAffine(stats: NormalizationStats): AffineNormalization {
  // Each method takes its own stats; the name picked it, so the union of methods accepts `stats`.
  const method = NORMALIZATIONS[stats.name] as NormalizationMethod<NormalizationName>;
  return method.affine(stats);
}

/** Per-channel raw = normalized · scale + offset, for `channels` channels (a single value serves them all). */
export function channelAffine(
  stats: NormalizationStats,
  channels: number,
): { offset: number[]; scale: number[] } {
  const { offset, spread, eps } = normalizationAffine(stats);
  const pick = (values: number[], ch: number) => {
    if (values.length !== 1 && values.length !== channels) {
      throw new DataError('ChannelMismatch', `stats have ${values.length} values for ${channels} channels`);
    }
    return values.length === 1 ? values[0] : values[ch];
  };
  const all = Array.from({ length: channels }, (_, ch) => ch);
  return { offset: all.map((ch) => pick(offset, ch)), scale: all.map((ch) => pick(spread, ch) + eps) };
}

function applyAffine(array: NDArray, axes: string, stats: NormalizationStats, inverse: boolean) {
  const layout = channelLayout(array.shape, axes);
  const { offset, spread, eps } = normalizationAffine(stats);
  const pick = (values: number[], ch: number) => {
    if (values.length !== 1 && values.length !== layout.channels) {
      throw new DataError(
        'ChannelMismatch',
        `stats have ${values.length} values for ${layout.channels} channels`,
      );
    }
    return values.length === 1 ? values[0] : values[ch];
  };
  const channels = Array.from({ length: layout.channels }, (_, ch) => ch);
  const offsets = channels.map((ch) => pick(offset, ch));
  const scales = channels.map((ch) => pick(spread, ch) + eps);
  const src: TypedArray = array.data;
  const out = new Float32Array(src.length);
  forEachChannelRun(layout, (ch, start, end) => {
    const o = offsets[ch];
    const s = scales[ch];
    if (inverse) for (let i = start; i < end; i++) out[i] = src[i] * s + o;
    else for (let i = start; i < end; i++) out[i] = (src[i] - o) / s;
  });
  return { data: out, shape: [...array.shape] };
}
/** Normalizes per channel into a new float32 array: (x−μ)/(σ+1e‑6), or (x−lo)/(hi−lo+1e‑8) for ranges. */
export function normalize(array: NDArray, axes: string, stats: NormalizationStats): NDArray<Float32Array> {
  return applyAffine(array, axes, stats, false);
}

/** The exact inverse of `normalize` (CAREamics' range denormalization drops the 1e‑8; we keep it). */
export function denormalize(array: NDArray, axes: string, stats: NormalizationStats): NDArray<Float32Array> {
  return applyAffine(array, axes, stats, true);
}
