import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epochPatchSpecs, type PatchSpec } from '../../src/data/patching.js';
import { Rng } from '../../src/data/random.js';
import { StratifiedPatching } from '../../src/data/stratifiedPatching.js';
import { createValSplit, splitByPercentage } from '../../src/data/valSplit.js';

const overlap = (a: PatchSpec, b: PatchSpec) =>
  a.dataIdx === b.dataIdx &&
  a.sampleIdx === b.sampleIdx &&
  a.coords.every(
    (c, i) => Math.max(c, b.coords[i]) < Math.min(c + a.patchSize[i], b.coords[i] + b.patchSize[i]),
  );

describe('createValSplit', () => {
  it('withholds n_val_patches grid patches that no training patch ever overlaps', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 16, max: 120 }), fc.integer({ min: 16, max: 120 })), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer(),
        (shapes, nVal, seed) => {
          const images = shapes.map(([y, x], i) => ({ name: `im${i}`, shape: [2, y, x], axes: 'SYX' }));
          const rng = new Rng(seed);
          const patching = new StratifiedPatching(images, [16, 16], rng);
          const cells = patching.getIncludedGridCoords().reduce((a, s) => a + s.gridCoords.length, 0);
          fc.pre(nVal < Math.min(cells, patching.nPatches));
          const before = patching.nPatches;
          const val = createValSplit(patching, rng, nVal);
          expect(val).toHaveLength(nVal);
          expect(patching.nPatches).toBeLessThanOrEqual(before - nVal + 1);
          for (const v of val) {
            expect(v.coords.every((c) => c % 16 === 0)).toBe(true);
            const [, y, x] = images[v.dataIdx].shape;
            expect(v.coords[0] + 16 <= y && v.coords[1] + 16 <= x).toBe(true);
          }
          for (let i = 0; i < val.length; i++)
            for (let j = i + 1; j < val.length; j++) expect(overlap(val[i], val[j])).toBe(false);
          for (let epoch = 0; epoch < 3; epoch++) {
            for (const t of epochPatchSpecs(patching, rng))
              for (const v of val) expect(overlap(t, v)).toBe(false);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('holds 8 patches out of a 1024² image, leaving 248 training patches', () => {
    const rng = new Rng(0);
    const patching = new StratifiedPatching([{ name: 'a', shape: [1024, 1024], axes: 'YX' }], [64, 64], rng);
    expect(createValSplit(patching, rng)).toHaveLength(8);
    expect(patching.nPatches).toBe(248);
  });

  it('refuses to withhold as many patches as there are', () => {
    const rng = new Rng(0);
    const patching = new StratifiedPatching([{ name: 'a', shape: [64, 64], axes: 'YX' }], [32, 32], rng);
    expect(() => createValSplit(patching, rng, 4)).toThrow(/validation patches/);
  });
});

describe('splitByPercentage (legacy val_percentage)', () => {
  it('partitions the items with max(round(n·p), minimum) for validation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer(),
        (n, p, seed) => {
          const items = Array.from({ length: n }, (_, i) => `file${i}`);
          const { train, val } = splitByPercentage(items, new Rng(seed), p, 1);
          expect(val.length).toBeGreaterThanOrEqual(1);
          expect(Math.abs(val.length - Math.max(1, n * p))).toBeLessThanOrEqual(0.5 + 1e-9);
          expect([...train, ...val].sort()).toEqual([...items].sort());
        },
      ),
    );
  });

  it('defaults to 10% with a minimum of one, rounding half to even like Python', () => {
    const rng = new Rng(1);
    expect(
      splitByPercentage(
        Array.from({ length: 25 }, (_, i) => i),
        rng,
      ).val,
    ).toHaveLength(2);
    expect(
      splitByPercentage(
        Array.from({ length: 35 }, (_, i) => i),
        rng,
      ).val,
    ).toHaveLength(4);
    expect(splitByPercentage([1, 2, 3], rng).val).toHaveLength(1);
    expect(() => splitByPercentage([], rng)).toThrow(/val_minimum_split/);
  });
});
