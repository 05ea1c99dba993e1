import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { N2VManipulateConfigSchema, type StructMaskAxes } from '../../src/config/index.js';
import {
  buildStructPattern,
  getStratifiedCoords,
  type N2VManipulateInput,
  n2vManipulate,
} from '../../src/data/n2vManipulate.js';
import { Rng } from '../../src/data/random.js';

/** A batch whose every value is its own flat index, so a copied value tells where it came from. */
function indexBatch(shape: number[]) {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: size }, (_, i) => i), shape };
}

interface Volume {
  base: number;
  dims: [number, number, number];
}

function volumes(shape: number[]): Volume[] {
  const dims: [number, number, number] =
    shape.length === 5 ? [shape[2], shape[3], shape[4]] : [1, shape[2], shape[3]];
  const size = dims[0] * dims[1] * dims[2];
  return Array.from({ length: shape[0] * shape[1] }, (_, v) => ({ base: v * size, dims }));
}

/** Offsets (dz, dy, dx) hidden by the struct pattern of a centre (the centre excluded). */
function structOffsets(axes: StructMaskAxes, span: number): Array<[number, number, number]> {
  const pattern = buildStructPattern(span, axes);
  const h = span >> 1;
  const out: Array<[number, number, number]> = [];
  for (let y = 0; y < span; y++)
    for (let x = 0; x < span; x++) if (pattern[y * span + x]) out.push([0, y - h, x - h]);
  return out;
}

/** Checks every masked centre and struct pixel of every volume against the N2V rules; returns the violations. */
function checkManipulation(shape: number[], config: N2VManipulateInput, seed: number): string[] {
  const batch = indexBatch(shape);
  const { masked, mask } = n2vManipulate(batch, config, new Rng(seed));
  const errors: string[] = [];
  const fail = (msg: string) => errors.length < 5 && errors.push(msg);
  if (batch.data.some((v, i) => v !== i)) fail('input modified');
  const { roi_size, struct_mask } = N2VManipulateConfigSchema.parse(config);
  const roiHalf = roi_size >> 1;
  const offsets = struct_mask ? structOffsets(struct_mask.axes, struct_mask.span) : [];
  const isOffset = new Set(offsets.map((o) => o.join()));
  for (const { base, dims } of volumes(shape)) {
    const [nz, ny, nx] = dims;
    const size = nz * ny * nx;
    const pos = (i: number) => [Math.floor(i / (ny * nx)), Math.floor(i / nx) % ny, i % nx];
    const centres: number[] = [];
    for (let i = 0; i < size; i++) if (mask.data[base + i] === 1) centres.push(i);
    // Pixels hidden by some centre's struct pattern.
    const hidden = new Set<number>();
    for (const c of centres) {
      const [z, y, x] = pos(c);
      for (const [, dy, dx] of offsets) {
        const [yy, xx] = [y + dy, x + dx];
        if (yy >= 0 && yy < ny && xx >= 0 && xx < nx) hidden.add((z * ny + yy) * nx + xx);
      }
    }
    let unchangedHidden = 0;
    for (let i = 0; i < size; i++) {
      const v = masked.data[base + i];
      if (hidden.has(i)) {
        // Struct pixels: uniform random values within the patch range.
        if (v < base || v > base + size - 1) fail(`struct pixel ${i} out of range: ${v}`);
        if (v === base + i) unchangedHidden++;
      } else if (mask.data[base + i] !== 1) {
        if (v !== base + i) fail(`pixel ${i} changed without being masked`);
      } else {
        // A centre's new value is the value of another pixel of the same volume, inside its ROI, not hidden.
        const q = v - base;
        const [z, y, x] = pos(i);
        const [qz, qy, qx] = pos(q);
        const d = [qz - z, qy - y, qx - x];
        if (!Number.isInteger(v) || q < 0 || q >= size) fail(`centre ${i} got a foreign value ${v}`);
        else if (q === i) fail(`centre ${i} replaced by itself`);
        else if (Math.max(...d.map(Math.abs)) > roiHalf) fail(`centre ${i} replaced from outside the ROI`);
        else if (isOffset.has(d.join())) fail(`centre ${i} replaced by its struct pixel ${q}`);
      }
    }
    if (unchangedHidden > 1) fail(`${unchangedHidden} struct pixels unchanged`);
  }
  return errors;
}

describe('n2vManipulate', () => {
  it('replaces each masked pixel from its ROI, never from itself nor from its struct pixels', () => {
    fc.assert(
      fc.property(
        fc.record({
          is3d: fc.boolean(),
          strategy: fc.constantFrom('uniform' as const, 'median' as const),
          roi: fc.constantFrom(3, 5, 11),
          struct: fc.option(
            fc.record({
              axes: fc.constantFrom<StructMaskAxes>('horizontal', 'vertical', 'cross', 'square'),
              span: fc.constantFrom(3, 5, 7),
            }),
            { nil: null },
          ),
          percentage: fc.constantFrom(0.2, 1, 5),
          seed: fc.integer(),
        }),
        ({ is3d, strategy, roi, struct, percentage, seed }) => {
          fc.pre(!(struct?.axes === 'square' && !is3d && roi <= struct.span));
          const shape = is3d ? [2, 1, 6, 20, 20] : [2, 2, 40, 40];
          const config = {
            roi_size: roi,
            strategy,
            struct_mask: struct,
            masked_pixel_percentage: percentage,
          };
          expect(checkManipulation(shape, config, seed)).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('masks one pixel per grid cell of side (100/p)^(1/ndim), ≈0.2% of pixels', () => {
    const { mask } = n2vManipulate(
      { data: new Float32Array(512 * 512).map((_, i) => i), shape: [1, 1, 512, 512] },
      {},
      new Rng(1),
    );
    const count = mask.data.reduce((a, m) => a + m, 0);
    expect(Math.abs(count / (512 * 512) - 0.002)).toBeLessThan(0.0002);
    // Cell k of side s yields floor(k·s + U·s): exactly one point per cell, inside it.
    const side = Math.sqrt(500);
    const coords = getStratifiedCoords(0.2, [64, 64], new Rng(0));
    expect(coords.length / 2).toBeLessThanOrEqual(9);
    expect(coords.length / 2).toBeGreaterThanOrEqual(4);
    for (let p = 0; p < coords.length; p += 2) {
      const cell = [Math.floor(p / 2 / 3), (p / 2) % 3];
      expect(coords[p] >= Math.floor(cell[0] * side) && coords[p] < (cell[0] + 1) * side).toBe(true);
    }
  });

  it("draws uniform offsets with CAREamics' distribution: never 0, +1 twice as likely", () => {
    const counts = new Map<number, number>();
    const rng = new Rng(4);
    const n = 200;
    for (let t = 0; t < n; t++) {
      const batch = indexBatch([1, 1, 256, 256]);
      const { masked, mask } = n2vManipulate(batch, {}, rng);
      mask.data.forEach((m, i) => {
        const y = Math.floor(i / 256);
        const x = i % 256;
        if (m !== 1 || y < 5 || x < 5 || y > 250 || x > 250) return;
        const dx = (masked.data[i] % 256) - x;
        counts.set(dx, (counts.get(dx) ?? 0) + 1);
      });
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(counts.has(0)).toBe(false);
    expect((counts.get(1) ?? 0) / total).toBeCloseTo(2 / 11, 1);
    for (const d of [-5, -1, 2, 5]) expect((counts.get(d) ?? 0) / total).toBeCloseTo(1 / 11, 1);
  });

  it('computes the lower median of the ROI without the centre and struct pixels', () => {
    const rng = new Rng(8);
    const data = Float32Array.from({ length: 32 * 32 }, () => Math.round(rng.uniform(0, 1000)));
    const { masked, mask } = n2vManipulate(
      { data, shape: [1, 1, 32, 32] },
      { strategy: 'median', roi_size: 5 },
      new Rng(2),
    );
    let checked = 0;
    mask.data.forEach((m, i) => {
      if (m !== 1) return;
      const [y, x] = [Math.floor(i / 32), i % 32];
      const values: number[] = [];
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          const [yy, xx] = [Math.min(31, Math.max(0, y + dy)), Math.min(31, Math.max(0, x + dx))];
          if (yy !== y || xx !== x) values.push(data[yy * 32 + xx]);
        }
      }
      values.sort((a, b) => a - b);
      expect(masked.data[i]).toBe(values[(values.length - 1) >> 1]);
      checked++;
    });
    expect(checked).toBeGreaterThan(0);
  });

  it("takes masked_pixel_percentage's bounds (0.05–10 %) from the configuration schema, naming the field", () => {
    const batch = indexBatch([1, 1, 32, 32]);
    expect(() => n2vManipulate(batch, { masked_pixel_percentage: 20 }, new Rng(0))).toThrow(
      /^n2v_config\.masked_pixel_percentage: .*10/,
    );
    expect(() => getStratifiedCoords(0.01, [64, 64], new Rng(0))).toThrow(
      /^masked_pixel_percentage: .*0\.05/,
    );
    const { mask } = n2vManipulate(batch, { masked_pixel_percentage: 10 }, new Rng(0));
    expect(mask.data.reduce((a, m) => a + m, 0)).toBeGreaterThan(50);
  });

  it('builds the struct patterns CAREamics offers', () => {
    expect(Array.from(buildStructPattern(3, 'horizontal'))).toEqual([0, 0, 0, 1, 0, 1, 0, 0, 0]);
    expect(Array.from(buildStructPattern(3, 'vertical'))).toEqual([0, 1, 0, 0, 0, 0, 0, 1, 0]);
    expect(Array.from(buildStructPattern(3, 'cross'))).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0]);
    expect(Array.from(buildStructPattern(3, 'square'))).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    expect(() => buildStructPattern(4, 'horizontal')).toThrow(/odd/);
  });

  it('is reproducible from the seed and fast on 16×1×64×64 batches', () => {
    const rng = new Rng(0);
    const batch = {
      data: Float32Array.from({ length: 16 * 64 * 64 }, () => rng.normal()),
      shape: [16, 1, 64, 64],
    };
    const config: N2VManipulateInput = { struct_mask: { axes: 'horizontal', span: 5 } };
    expect(n2vManipulate(batch, config, new Rng(3))).toEqual(n2vManipulate(batch, config, new Rng(3)));
    const start = performance.now();
    for (let i = 0; i < 100; i++) n2vManipulate(batch, { strategy: 'median' }, rng);
    expect((performance.now() - start) / 100).toBeLessThan(10);
  });
});
