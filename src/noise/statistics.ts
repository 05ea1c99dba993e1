/** The data's own noise curve: observation mean and std per signal bin, to hold a fitted model against. */
import type { SignalObservationPairs } from './fit.js';

export interface SignalBin {
  /** Mean signal of the bin's pairs. */
  signal: number;
  count: number;
  observationMean: number;
  /** Standard deviation of observation − signal within the bin. */
  observationStd: number;
}

/**
 * Pairs sorted by signal and cut into `bins` bins of equal count (so each bin's std is equally well measured);
 * bins of fewer than `minCount` pairs are left out.
 */
export function binnedStatistics(pairs: SignalObservationPairs, bins = 30, minCount = 20): SignalBin[] {
  const n = pairs.signal.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => pairs.signal[a]! - pairs.signal[b]!,
  );
  const out: SignalBin[] = [];
  for (let b = 0; b < bins; b++) {
    const start = Math.floor((b * n) / bins);
    const stop = Math.floor(((b + 1) * n) / bins);
    const count = stop - start;
    if (count < minCount) continue;
    let signal = 0;
    let observation = 0;
    let residual = 0;
    let residualSquares = 0;
    for (let j = start; j < stop; j++) {
      const i = order[j]!;
      const r = pairs.observation[i]! - pairs.signal[i]!;
      signal += pairs.signal[i]!;
      observation += pairs.observation[i]!;
      residual += r;
      residualSquares += r * r;
    }
    const meanResidual = residual / count;
    out.push({
      signal: signal / count,
      count,
      observationMean: observation / count,
      observationStd: Math.sqrt(Math.max(residualSquares / count - meanResidual * meanResidual, 0)),
    });
  }
  return out;
}
