import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AxesArray,
  orient,
  predict,
  rot90,
  TTA_ORIENTATIONS,
  unorient,
} from '../../src/prediction/index.js';
import { boxModel, counted, gradientXModel, pointwiseModel } from './fakes.js';

const m23 = Float32Array.from([1, 2, 3, 4, 5, 6]);

describe('orientations', () => {
  it('rotate like numpy.rot90 and list the legacy tta.py transforms in order', () => {
    expect(rot90(m23, [2, 3], 1)).toEqual({ data: Float32Array.from([3, 6, 2, 5, 1, 4]), shape: [3, 2] });
    expect(rot90(m23, [2, 3], 3)).toEqual({ data: Float32Array.from([4, 1, 5, 2, 6, 3]), shape: [3, 2] });
    const all = TTA_ORIENTATIONS.map((o) => Array.from(orient(m23, [2, 3], o).data));
    expect(all).toEqual([
      [1, 2, 3, 4, 5, 6], // identity
      [3, 6, 2, 5, 1, 4], // rot90 ×1
      [6, 5, 4, 3, 2, 1], // rot90 ×2
      [4, 1, 5, 2, 6, 3], // rot90 ×3
      [4, 5, 6, 1, 2, 3], // flip Y
      [3, 2, 1, 6, 5, 4], // flip X
      [1, 4, 2, 5, 3, 6], // rot90 then flip Y
      [6, 3, 5, 2, 4, 1], // rot90 then flip X
    ]);
  });

  it('are undone by unorient on any batch of planes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 0, max: 7 }),
        (shape, which) => {
          const size = shape.reduce((p, s) => p * s, 1);
          const data = Float32Array.from({ length: size }, (_, i) => i);
          const o = TTA_ORIENTATIONS[which]!;
          const there = orient(data, shape, o);
          expect(unorient(there.data, there.shape, o)).toEqual({ data, shape });
        },
      ),
    );
  });
});

describe('predict with tta', () => {
  const input: AxesArray = {
    data: Float32Array.from({ length: 45 * 38 }, (_, i) => Math.sin(i * 0.37) * 50 + (i % 7)),
    shape: [45, 38],
    axes: 'YX',
  };
  // Non-square tiles: rotated tiles reach the model with Y and X swapped.
  const options = {
    model: { depth: 2, inChannels: 1, outChannels: 1, is3D: false },
    tileSize: [16, 24],
    tileOverlap: [4, 4],
  };

  it('equals no TTA for models that commute with rotations and flips', async () => {
    for (const model of [pointwiseModel((x) => 2 * x + 1), boxModel(1)]) {
      const plain = await predict(input, model, options);
      const tta = await predict(input, model, { ...options, tta: true });
      for (let i = 0; i < plain.data.length; i++) expect(tta.data[i]).toBeCloseTo(plain.data[i]!, 4);
    }
    const doubled = await predict(
      input,
      pointwiseModel((x) => 2 * x + 1),
      { ...options, tta: true },
    );
    expect(doubled.data[100]).toBeCloseTo(2 * input.data[100]! + 1, 4);
  });

  it('transforms only Y and X of 3D multichannel tiles', async () => {
    const volume: AxesArray = {
      data: Float32Array.from({ length: 2 * 9 * 13 * 11 }, (_, i) => Math.sin(i * 0.7) * 10),
      shape: [2, 9, 13, 11],
      axes: 'CZYX',
    };
    const out = await predict(
      volume,
      pointwiseModel((x) => 2 * x + 1),
      {
        model: { depth: 1, inChannels: 2, outChannels: 2, is3D: true },
        tileSize: [4, 8, 6],
        tileOverlap: [2, 2, 2],
        tta: true,
      },
    );
    for (let i = 0; i < out.data.length; i++) expect(out.data[i]).toBeCloseTo(2 * volume.data[i]! + 1, 4);
  });

  it('averages the orientations of a model that does not commute with them', async () => {
    const plain = await predict(input, gradientXModel, options);
    const tta = await predict(input, gradientXModel, { ...options, tta: true });
    let diff = 0;
    for (let i = 0; i < plain.data.length; i++)
      diff = Math.max(diff, Math.abs(plain.data[i]! - tta.data[i]!));
    expect(diff).toBeGreaterThan(1);
  });

  it('calls the model 8 times per batch', async () => {
    const { model: counting, calls } = counted(pointwiseModel((x) => x));
    await predict(input, counting, {
      ...options,
      tileSize: [48, 40],
      tta: true,
    });
    expect(calls()).toBe(8);
  });
});
