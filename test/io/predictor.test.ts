import { expect, it } from 'vitest';
import { fixBigEndianHorizontalPredictor } from '../../src/io/tiff/predictor.js';

/** What geotiff v3 returns for a big-endian 16-bit row with predictor 2: sums of byte-swapped deltas, swapped back. */
function geotiffWrongDecode(values: number[], blockWidth: number): Uint16Array {
  const swap = (v: number) => ((v & 0xff) << 8) | (v >>> 8);
  const out = new Uint16Array(values.length);
  for (let block = 0; block < values.length; block += blockWidth) {
    let sum = 0;
    for (let x = block; x < Math.min(values.length, block + blockWidth); x++) {
      const delta = (values[x]! - (x === block ? 0 : values[x - 1]!)) & 0xffff;
      sum = (sum + swap(delta)) & 0xffff;
      out[x] = swap(sum);
    }
  }
  return out;
}

it('recovers big-endian horizontally differenced rows that geotiff sums in the wrong byte order', () => {
  const values = [1000, 65535, 0, 300, 258, 40000, 7, 7, 12345, 1];
  for (const blockWidth of [10, 4]) {
    const decoded = geotiffWrongDecode(values, blockWidth);
    expect(Array.from(decoded)).not.toEqual(values);
    fixBigEndianHorizontalPredictor(decoded, values.length, blockWidth);
    expect(Array.from(decoded)).toEqual(values);
  }
});
