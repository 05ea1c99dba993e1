import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AugmentationInput,
  applyAugmentation,
  augmentBatch,
  drawAugmentation,
} from '../../src/data/augmentation.js';
import { Rng } from '../../src/data/random.js';
import { isCareamicsError } from '../../src/errors.js';

const DEFAULTS: AugmentationInput[] = [{ name: 'XYFlip' }, { name: 'XYRandomRotate90' }];

describe('applyAugmentation', () => {
  const grid = () => Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);

  it('matches numpy flip and rot90(k, axes=(-2, -1))', () => {
    const cases: Array<[Parameters<typeof applyAugmentation>[0], number[]]> = [
      [{ kind: 'flip', axis: 'X' }, [3, 2, 1, 6, 5, 4, 9, 8, 7]],
      [{ kind: 'flip', axis: 'Y' }, [7, 8, 9, 4, 5, 6, 1, 2, 3]],
      [{ kind: 'rot90', k: 1 }, [3, 6, 9, 2, 5, 8, 1, 4, 7]],
      [{ kind: 'rot90', k: 2 }, [9, 8, 7, 6, 5, 4, 3, 2, 1]],
      [{ kind: 'rot90', k: 3 }, [7, 4, 1, 8, 5, 2, 9, 6, 3]],
    ];
    for (const [aug, expected] of cases) {
      const data = grid();
      applyAugmentation(aug, data, 3, 3);
      expect(Array.from(data)).toEqual(expected);
    }
  });

  it('refuses quarter turns of non-square patches', () => {
    try {
      applyAugmentation({ kind: 'rot90', k: 1 }, new Float32Array(6), 2, 3);
      expect.unreachable();
    } catch (err) {
      expect(isCareamicsError(err, 'NonSquarePatch')).toBe(true);
    }
  });
});

describe('augmentBatch', () => {
  it('keeps input and target aligned (target = input + 1), in 2D and 3D', () => {
    fc.assert(
      fc.property(fc.integer(), fc.boolean(), (seed, is3d) => {
        const shape = is3d ? [3, 2, 4, 6, 6] : [4, 2, 8, 8];
        const size = shape.reduce((a, b) => a * b, 1);
        const rng = new Rng(seed);
        const input = { data: Float32Array.from({ length: size }, () => rng.random()), shape };
        const target = { data: input.data.map((v) => v + 1), shape: [...shape] };
        augmentBatch(input, target, DEFAULTS, rng);
        input.data.forEach((v, i) => {
          expect(target.data[i]).toBe(Math.fround(v + 1));
        });
      }),
      { numRuns: 50 },
    );
  });

  it('moves pixels within their own (Y, X) plane only, never across Z, channel or sample', () => {
    const shape = [2, 2, 3, 4, 4];
    const plane = 16;
    const data = Float32Array.from({ length: 2 * 2 * 3 * plane }, (_, i) => i);
    augmentBatch({ data, shape }, undefined, DEFAULTS, new Rng(5));
    for (let p = 0; p < 12; p++) {
      const values = Array.from(data.subarray(p * plane, (p + 1) * plane)).sort((a, b) => a - b);
      expect(values).toEqual(Array.from({ length: plane }, (_, i) => p * plane + i));
    }
  });

  it('applies each transform with probability p and draws flips of both axes and k ∈ {1, 2, 3}', () => {
    const rng = new Rng(11);
    const seen = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      for (const config of DEFAULTS) {
        const aug = drawAugmentation(config, rng);
        const key =
          aug === null ? `${config.name}:none` : aug.kind === 'flip' ? `flip:${aug.axis}` : `rot:${aug.k}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }
    const frac = (key: string) => (seen.get(key) ?? 0) / n;
    expect(frac('XYFlip:none')).toBeCloseTo(0.5, 1);
    expect(frac('flip:X')).toBeCloseTo(0.25, 1);
    expect(frac('flip:Y')).toBeCloseTo(0.25, 1);
    for (const k of [1, 2, 3]) expect(frac(`rot:${k}`)).toBeCloseTo(1 / 6, 1);
    expect(drawAugmentation({ name: 'XYFlip', p: 0 }, rng)).toBeNull();
    expect(drawAugmentation({ name: 'XYFlip', flip_y: false, p: 1 }, rng)).toEqual({
      kind: 'flip',
      axis: 'X',
    });
  });
});
