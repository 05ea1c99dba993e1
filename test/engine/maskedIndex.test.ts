import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskedIndices } from '../../src/engine/maskedIndex.js';

describe('maskedIndices', () => {
  it('lists each row’s masked pixels first, pads with unmasked ones to a fixed power of two', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 8, max: 80 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 320, maxLength: 320 }),
        fc.constantFrom(0, 16),
        (rows, pixels, draws, minPerRow) => {
          const mask = Float32Array.from({ length: rows * pixels }, (_, i) => (draws[i] < 0.1 ? 1 : 0));
          const { data, perRow } = maskedIndices(mask, rows, pixels, minPerRow);
          expect(data.length).toBe(rows * perRow);
          expect(perRow).toBeLessThanOrEqual(pixels);
          expect(perRow).toBeGreaterThanOrEqual(Math.min(pixels, Math.max(8, minPerRow)));
          for (let r = 0; r < rows; r++) {
            const row = mask.subarray(r * pixels, (r + 1) * pixels);
            const listed = Array.from(data.subarray(r * perRow, (r + 1) * perRow), Number);
            const masked = [...row.keys()].filter((p) => row[p] === 1);
            expect(listed.slice(0, masked.length)).toEqual(masked);
            for (const p of listed.slice(masked.length)) expect(row[p]).toBe(0);
            expect(new Set(listed).size).toBe(listed.length);
          }
        },
      ),
    );
  });
});
