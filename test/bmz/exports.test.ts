import { describe, expect, it } from 'vitest';
import * as bmz from '../../src/bmz/index.js';

describe('public exports', () => {
  it('do not change by accident', () => {
    expect(Object.keys(bmz).sort()).toEqual([
      'BmzError',
      'FORMAT_VERSION',
      'SUPPORTED_PROCESSING',
      'canonicalAxisIds',
      'centredTestCrop',
      'compareToTestOutput',
      'createBmzPredictor',
      'exportToBmz',
      'importBmz',
      'isBmzError',
      'minimumSize',
      'normalizedPredict',
      'receptiveRadius',
      'splitSampleStandardization',
      'testBmz',
      'unetHalo',
    ]);
  });
});
