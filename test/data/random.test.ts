import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random.js';

describe('Rng', () => {
  it('is reproducible from a seed and from a saved state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.nat(50), (seed, skip) => {
        const a = new Rng(seed);
        for (let i = 0; i < skip; i++) a.random();
        const state = JSON.parse(JSON.stringify(a.getState()));
        const expected = [a.random(), a.integer(0, 10), a.normal(), a.uniform(-1, 1)];
        const b = Rng.fromState(state);
        expect([b.random(), b.integer(0, 10), b.normal(), b.uniform(-1, 1)]).toEqual(expected);
        const c = new Rng(seed);
        for (let i = 0; i < skip; i++) c.random();
        expect(c.getState()).toEqual(state);
      }),
    );
  });

  it('gives different streams for different seeds', () => {
    expect(new Rng(1).random()).not.toBe(new Rng(2).random());
  });

  it('draws uniform floats and integers in range with the right moments', () => {
    const rng = new Rng(7);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    const counts = new Array(6).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.random();
      if (u < 0 || u >= 1) outOfRange++;
      counts[rng.integer(-2, 4) + 2]++;
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    expect(outOfRange).toBe(0);
    for (const c of counts) expect(Math.abs(c / n - 1 / 6)).toBeLessThan(0.01);
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.03);
  });

  it('shuffles into a permutation and samples distinct indices', () => {
    const rng = new Rng(3);
    const items = Array.from({ length: 50 }, (_, i) => i);
    expect(rng.shuffle([...items]).sort((a, b) => a - b)).toEqual(items);
    const picked = rng.sampleWithoutReplacement(20, 20);
    expect(new Set(picked).size).toBe(20);
  });

  it('rejects a malformed state', () => {
    expect(() => new Rng().setState([1, 2, 3, -1])).toThrow(RangeError);
  });
});
