import { describe, expect, it } from 'vitest';
import * as data from '../../src/data/index.js';

describe('src/data public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(data).sort()).toEqual([
      'MEAN_STD_EPS',
      'MinMaxStatistics',
      'QuantileEstimator',
      'RANGE_EPS',
      'RandomPatching',
      'Rng',
      'StratifiedPatching',
      'WelfordStatistics',
      'applyAugmentation',
      'augmentBatch',
      'buildStructPattern',
      'checkPatchFits',
      'createStatsAccumulator',
      'createValSplit',
      'denormalize',
      'drawAugmentation',
      'epochPatchSpecs',
      'extractPatchBatch',
      'getStratifiedCoords',
      'imageGeometry',
      'n2vManipulate',
      'normalize',
      'patchRegion',
      'readPatchBatch',
      'splitByPercentage',
    ]);
  });
});
