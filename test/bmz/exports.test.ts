import { describe, expect, it } from 'vitest';
import * as bmz from '../../src/bmz/index.js';

describe('public exports', () => {
  it('do not change by accident', () => {
    expect(Object.keys(bmz).sort()).toEqual([
      'BmzError',
      'FORMAT_VERSION',
      'SUPPORTED_PROCESSING',
      'compareToTestOutput',
      'createBmzPredictor',
      'exportToBmz',
      'importBmz',
      'isBmzError',
      'minimumSize',
      'receptiveRadius',
      'testBmz',
      'unetHalo',
    ]);
  });
});
