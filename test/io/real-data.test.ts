import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAll } from '../../src/io/memory.js';
import { openFolder, openImage } from '../../src/io/node/index.js';
import { BSD, HAS_SHARED_DATA, MICROSCOPY, stats } from './helpers.js';

interface ReferenceStats {
  shape: number[];
  dtype: string;
  min: number;
  max: number;
  mean: number;
}

const reference: Record<string, ReferenceStats> = HAS_SHARED_DATA
  ? JSON.parse(readFileSync(`${MICROSCOPY}reference-stats.json`, 'utf8'))
  : {};

describe.skipIf(!HAS_SHARED_DATA)(
  'real microscopy files match reference-stats.json (tifffile/Pillow/numpy)',
  () => {
    it.each(Object.keys(reference))('%s', async (file) => {
      const expected = reference[file]!;
      const source = await openImage(`${MICROSCOPY}${file}`);
      // Pillow reports 16-bit PNGs as int32; they are unsigned 16-bit.
      const dtype = file.endsWith('.png') && expected.dtype === 'int32' ? 'uint16' : expected.dtype;
      expect(source.shape).toEqual(expected.shape);
      expect(source.dtype).toBe(dtype);
      const pixels = await readAll(source);
      const actual = stats(pixels.data);
      expect(actual.min).toBe(expected.min);
      expect(actual.max).toBe(expected.max);
      expect(actual.mean).toBeCloseTo(expected.mean, 5);
    });

    it('reads the files reference-stats.json does not list', async () => {
      const listed = new Set([...Object.keys(reference), 'reference-stats.json', 'sem_n2v_model.yaml']);
      for (const file of readdirSync(MICROSCOPY).filter((f) => !listed.has(f))) {
        const source = await openImage(`${MICROSCOPY}${file}`);
        expect(source.shape.length, file).toBeGreaterThanOrEqual(2);
      }
    });

    it('reads ImageJ big-endian stacks lazily by page range', async () => {
      const source = await openImage(`${MICROSCOPY}fmd_3page_raw_float32.tif`);
      expect(source.axes).toBe('ZYX');
      const whole = await readAll(source);
      const middle = await source.read({ start: [1, 0, 0], stop: [2, 512, 512] });
      expect(middle.data).toEqual(whole.data.subarray(512 * 512, 2 * 512 * 512));
    });
  },
);

describe.skipIf(!HAS_SHARED_DATA)('BSD natural images', () => {
  it('reads a sample of BSD68, Set12 and Train400 as 8-bit grey', async () => {
    const bsd68 = await openFolder(`${BSD}BSD68`, { extension: 'png' });
    expect(bsd68).toHaveLength(68);
    expect(bsd68[0]!.name).toMatch(/test001\.png$/);
    for (const source of [bsd68[0]!, bsd68[67]!]) {
      expect(source.dtype).toBe('uint8');
      expect([
        [481, 321],
        [321, 481],
      ]).toContainEqual(source.shape);
    }
    const set12 = await openImage(`${BSD}Set12/01.png`);
    expect(set12.shape).toEqual([256, 256]);
    const train = await openImage(`${BSD}Train400/test_001.png`);
    expect(train.shape).toEqual([180, 180]);
    expect(stats((await readAll(train)).data).max).toBeLessThanOrEqual(255);
  });
});
