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
      'countTiles',
      'defaultOverlap',
      'estimatePeakMemory',
      'flipPlanes',
      'isPredictionError',
      'orient',
      'outputLayout',
      'planAxisTiles',
      'planTiles',
      'predict',
      'predictToWriter',
      'reflectIndex',
      'resolveMemoryBudget',
      'resolveOverlap',
      'rot90',
      'unorient',
      'validateTiling',
      'withTTA',
    ]);
  });
});
