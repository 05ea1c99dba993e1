import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  epochPatchSpecs,
  extractPatchBatch,
  type ImageArray,
  type PatchSpec,
  RandomPatching,
  readPatchBatch,
} from '../../src/data/patching.js';
import { Rng } from '../../src/data/random.js';
import { StratifiedPatching } from '../../src/data/stratifiedPatching.js';
import { isCareamicsError } from '../../src/errors.js';
import type { ImageSource, NDArray, Region } from '../../src/io/types.js';

const info = (shape: number[], axes: string, name = 'img.tif') => ({ name, shape, axes });

function ramp(shape: number[], axes: string, name = 'ramp'): ImageArray {
  const size = shape.reduce((a, b) => a * b, 1);
  return { name, shape, axes, data: Float32Array.from({ length: size }, (_, i) => i) };
}

/** An ImageSource over an in-memory array that slices regions the slow, obvious way. */
function memorySource(image: ImageArray): ImageSource {
  return {
    name: image.name,
    shape: image.shape,
    axes: image.axes,
    dtype: 'float32',
    async read(region?: Region): Promise<NDArray> {
      const start = region?.start ?? image.shape.map(() => 0);
      const stop = region?.stop ?? [...image.shape];
      const outShape = stop.map((s, i) => s - start[i]);
      const out = new Float32Array(outShape.reduce((a, b) => a * b, 1));
      const idx = outShape.map(() => 0);
      for (let o = 0; o < out.length; o++) {
        let src = 0;
        for (let a = 0; a < idx.length; a++) src = src * image.shape[a] + start[a] + idx[a];
        out[o] = image.data[src];
        for (let a = idx.length - 1; a >= 0 && ++idx[a] === outShape[a]; a--) idx[a] = 0;
      }
      return { data: out, shape: outShape };
    },
  };
}

const inside = (spec: PatchSpec, spatial: number[]) =>
  spec.coords.every((c, i) => c >= 0 && c + spec.patchSize[i] <= spatial[i]);

const geometryArb = fc.oneof(
  fc.record({
    spatial: fc.tuple(fc.integer({ min: 8, max: 150 }), fc.integer({ min: 8, max: 150 })),
    patch: fc.constant([8, 8]),
  }),
  fc.record({
    spatial: fc.tuple(
      fc.integer({ min: 4, max: 20 }),
      fc.integer({ min: 16, max: 60 }),
      fc.integer({ min: 16, max: 60 }),
    ),
    patch: fc.constant([4, 16, 16]),
  }),
);

describe('StratifiedPatching', () => {
  it('yields 256 patches of 64² per epoch from a 1024² image, 64 from 64×256² in 3D', () => {
    expect(new StratifiedPatching([info([1024, 1024], 'YX')], [64, 64], new Rng(1)).nPatches).toBe(256);
    expect(new StratifiedPatching([info([2, 1024, 1024], 'SYX')], [64, 64], new Rng(1)).nPatches).toBe(512);
    expect(new StratifiedPatching([info([64, 256, 256], 'ZYX')], [16, 64, 64], new Rng(1)).nPatches).toBe(64);
  });

  it('spreads an epoch over the whole image (patches in nearly every grid row)', () => {
    const patching = new StratifiedPatching([info([1024, 1024], 'YX')], [64, 64], new Rng(2));
    const specs = epochPatchSpecs(patching, new Rng(3));
    const rows = new Set(specs.map((s) => Math.floor(s.coords[0] / 64)));
    expect(rows.size).toBeGreaterThanOrEqual(15);
  });

  it('and RandomPatching keep every patch inside its image, in 2D and 3D', () => {
    fc.assert(
      fc.property(
        geometryArb,
        fc.integer(),
        fc.integer({ min: 1, max: 3 }),
        ({ spatial, patch }, seed, nSamples) => {
          const images = [info([nSamples, ...spatial], spatial.length === 3 ? 'SZYX' : 'SYX')];
          for (const patching of [
            new StratifiedPatching(images, patch, new Rng(seed)),
            new RandomPatching(images, patch, new Rng(seed)),
          ]) {
            const specs = epochPatchSpecs(patching, new Rng(seed + 1));
            expect(specs.length).toBeGreaterThan(0);
            for (const spec of specs) {
              expect(spec.sampleIdx).toBeLessThan(nSamples);
              expect(inside(spec, spatial)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('names the file when an image is smaller than the patch', () => {
    const small = info([1, 40, 100], 'CYX', 'tiny.tif');
    for (const make of [
      () => new StratifiedPatching([small], [64, 64], new Rng(0)),
      () => new RandomPatching([small], [64, 64], new Rng(0)),
    ]) {
      try {
        make();
        expect.unreachable();
      } catch (err) {
        expect(isCareamicsError(err, 'PatchTooLarge')).toBe(true);
        expect((err as Error).message).toContain('tiny.tif');
      }
    }
  });

  it('RandomPatching never overlaps withheld patches, and skips a sample they cover entirely', () => {
    const images = [info([2, 64, 64], 'SYX'), info([20, 20], 'YX')];
    const withheld: PatchSpec[] = [
      { dataIdx: 0, sampleIdx: 1, coords: [10, 12], patchSize: [16, 16] },
      // The only corner band of a 20×20 image for a 16×16 patch: every patch overlaps it.
      { dataIdx: 1, sampleIdx: 0, coords: [2, 2], patchSize: [16, 16] },
    ];
    const patching = new RandomPatching(images, [16, 16], new Rng(3), withheld);
    expect(patching.nPatches).toBe(2 * 16);
    for (let epoch = 0; epoch < 50; epoch++) {
      for (const spec of epochPatchSpecs(patching, new Rng(epoch))) {
        expect(spec.dataIdx).toBe(0);
        const w = withheld[0];
        const overlap =
          spec.sampleIdx === w.sampleIdx &&
          spec.coords.every((c, i) => c < w.coords[i] + 16 && w.coords[i] < c + 16);
        expect(overlap).toBe(false);
      }
    }
  });

  it('RandomPatching still finds the one clear corner when withheld patches leave nothing else', () => {
    // Shadows (w − 16, w + 16) for w = 16, 47, 78, … cover every corner x ≥ 1 of a 16×2000 image.
    const withheld = Array.from({ length: 65 }, (_, k) => ({
      dataIdx: 0,
      sampleIdx: 0,
      coords: [0, Math.min(16 + 31 * k, 1984)],
      patchSize: [16, 16],
    }));
    const patching = new RandomPatching([info([16, 2000], 'YX')], [16, 16], new Rng(1), withheld);
    const specs = epochPatchSpecs(patching, new Rng(2));
    expect(specs).toHaveLength(125);
    for (const spec of specs) expect(spec.coords).toEqual([0, 0]);
  });

  it('is reproducible from the seed', () => {
    const run = () =>
      epochPatchSpecs(new StratifiedPatching([info([300, 200], 'YX')], [32, 32], new Rng(9)), new Rng(10));
    expect(run()).toEqual(run());
  });
});

describe('patch extraction', () => {
  it('cuts (B, C, [Z,] Y, X) batches out of arrays, whatever the axis order', async () => {
    const cyx = ramp([2, 10, 12], 'CYX');
    const spec: PatchSpec = { dataIdx: 0, sampleIdx: 0, coords: [3, 5], patchSize: [2, 3] };
    const batch = extractPatchBatch([cyx], [spec]);
    expect(batch.shape).toEqual([1, 2, 2, 3]);
    expect(Array.from(batch.data)).toEqual([41, 42, 43, 53, 54, 55, 161, 162, 163, 173, 174, 175]);

    const yxc = ramp([10, 12, 2], 'YXC');
    const b2 = extractPatchBatch([yxc], [spec]);
    expect(Array.from(b2.data)).toEqual([82, 84, 86, 106, 108, 110, 83, 85, 87, 107, 109, 111]);
  });

  it('reads the same batch through ImageSource regions as from memory (S, T, C, Z axes)', async () => {
    const image = ramp([2, 3, 2, 5, 9, 10], 'STCZYX');
    const patching = new RandomPatching([image], [2, 4, 4], new Rng(4));
    const specs = epochPatchSpecs(patching, new Rng(5)).slice(0, 6);
    const fromMemory = extractPatchBatch([image], specs);
    const fromSource = await readPatchBatch([memorySource(image)], specs);
    expect(fromSource.shape).toEqual([6, 2, 2, 4, 4]);
    expect(fromSource).toEqual(fromMemory);
  });
});
