import { describe, expect, it } from 'vitest';
import * as prediction from '../../src/prediction/index.js';

describe('public exports', () => {
  it('do not change by accident', () => {
    expect(Object.keys(prediction).sort()).toEqual([
      'DEFAULT_BYTES_PER_INPUT_PIXEL',
      'DEFAULT_MEMORY_BUDGET_BYTES',
      'DEFAULT_TILE_OVERLAP',
      'PredictionError',
      'TTA_ORIENTATIONS',
      'chooseTileSize',
      'chunkBlock',
      'countTiles',
      'defaultOverlap',
      'estimatePeakMemory',
      'flipPlanes',
      'isPredictionError',
      'orient',
      'outputLayout',
      'partitionRegions',
      'planAxisTiles',
      'planTiles',
      'predict',
      'predictToWriter',
      'reflectIndex',
      'regionsFromCuts',
      'resolveLayout',
      'resolveMemoryBudget',
      'resolveOverlap',
      'restrictGrid',
      'rot90',
      'tileAlignedCuts',
      'toImageSource',
      'unorient',
      'validateTiling',
      'withTTA',
    ]);
  });
});
