import { describe, expect, it } from 'vitest';
import * as data from '../../src/data/index.js';

describe('src/data public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(data).sort()).toEqual([
      'DataError',
      'MEAN_STD_EPS',
      'MinMaxStatistics',
      'QuantileEstimator',
      'RANGE_EPS',
      'RandomPatching',
      'Rng',
      'StratifiedPatching',
      'TRAINING_PATCHING',
      'WelfordStatistics',
      'applyAugmentation',
      'augmentBatch',
      'buildStructPattern',
      'channelAffine',
      'checkPatchFits',
      'createStatsAccumulator',
      'createValSplit',
      'denormalize',
      'drawAugmentation',
      'epochPatchSpecs',
      'extractPatchBatch',
      'getStratifiedCoords',
      'groupedMoments',
      'imageGeometry',
      'imageStatistics',
      'isDataError',
      'isTrainingPatching',
      'n2vManipulate',
      'normalizationAffine',
      'normalize',
      'patchRegion',
      'readPatchBatch',
      'splitByPercentage',
      'statisticsSlabs',
    ]);
  });
});
