/** Validation splits: CAREamics HEAD's fixed grid patches, and the legacy percentage split of files or patches. */
import { DataError } from './errors.js';
import type { PatchSpec } from './patching.js';
import type { Rng } from './random.js';
import type { StratifiedPatching } from './stratifiedPatching.js';

/**
 * Withholds `nValPatches` grid patches (default 8, as `n_val_patches`) from `training` (modified in place) and
 * returns them as fixed validation specs: images are chosen in proportion to their remaining patch counts, cells
 * uniformly without replacement. No training patch drawn afterwards overlaps a validation patch.
 */
export function createValSplit(training: StratifiedPatching, rng: Rng, nValPatches = 8): PatchSpec[] {
  const samples = training.getIncludedGridCoords();
  // CAREamics weights by patch count, which can exceed the grid cells left (e.g. 16×33 with patch 16: 3 patches,
  // 2 cells) and then crashes; capping by the cells keeps its proportions otherwise.
  const counts = samples.map(({ dataIdx, sampleIdx, gridCoords }) =>
    Math.min(training.samples[dataIdx][sampleIdx].nPatches, gridCoords.length),
  );
  const total = counts.reduce((a, b) => a + b, 0);
  if (nValPatches >= total) {
    throw new DataError(
      'NotEnoughData',
      `cannot withhold ${nValPatches} validation patches: only ${total} training patches of size ` +
        `[${training.patchSize.join(', ')}]; add data, or lower n_val_patches or the patch size`,
    );
  }
  const selected = counts.map(() => 0);
  for (let k = 0; k < nValPatches; k++) {
    const i = rng.weightedIndex(counts);
    selected[i]++;
    counts[i]--;
  }
  const specs: PatchSpec[] = [];
  samples.forEach(({ dataIdx, sampleIdx, gridCoords }, i) => {
    if (selected[i] === 0) return;
    if (selected[i] > gridCoords.length) {
      throw new DataError(
        'NotEnoughData',
        `image ${dataIdx} has only ${gridCoords.length} grid patches left`,
      );
    }
    const chosen = rng.sampleWithoutReplacement(gridCoords.length, selected[i]).map((j) => gridCoords[j]);
    training.excludePatches(dataIdx, sampleIdx, chosen);
    for (const g of chosen) {
      specs.push({
        dataIdx,
        sampleIdx,
        coords: g.map((v, a) => v * training.patchSize[a]),
        patchSize: [...training.patchSize],
      });
    }
  });
  return specs;
}

/** Python's `round` (half to even), which the legacy split uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Legacy `val_percentage` split (CAREamics v0.0.x `split_dataset`): max(round(n·p), minimum) items drawn at random
 * for validation, the rest kept for training in their original order. Works on files or patches alike.
 */
export function splitByPercentage<T>(
  items: readonly T[],
  rng: Rng,
  valPercentage = 0.1,
  valMinimumSplit = 1,
): { train: T[]; val: T[] } {
  if (!(valPercentage >= 0 && valPercentage <= 1)) {
    throw new DataError('InvalidConfig', `val_percentage must be between 0 and 1, got ${valPercentage}`);
  }
  if (valMinimumSplit < 1 || valMinimumSplit > items.length) {
    throw new DataError(
      'NotEnoughData',
      `val_minimum_split must be between 1 and ${items.length} (the number of items), got ${valMinimumSplit}`,
    );
  }
  const nVal = Math.max(roundHalfEven(items.length * valPercentage), valMinimumSplit);
  const valIdx = rng.sampleWithoutReplacement(items.length, nVal);
  const isVal = new Set(valIdx);
  return { train: items.filter((_, i) => !isVal.has(i)), val: valIdx.map((i) => items[i]) };
}
