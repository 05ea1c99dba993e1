import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueUrl, threadsPerWorker } from '../../src/node.js';
import { cli, errorLines, tempDir } from '../cli/helpers.js';
import { pixelBytes, tinyModelAndImage } from './helpers.js';

const TILING = ['--tile-size', '64', '64', '--tile-overlap', '16', '16'];

describe('careamics predict --workers', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const p = (...parts: string[]) => join(dir, ...parts);

  beforeAll(async () => {
    ({ path: dir, cleanup } = await tempDir());
    await tinyModelAndImage(p('run'), p('image.tif'));
  }, 60_000);
  afterAll(() => cleanup());

  it.each([
    ['TIFF', 'tiff', 'image_denoised.tif', []],
    ['OME-Zarr', 'zarr', 'image_denoised.zarr', ['--chunk-size', '64', '64']],
  ])(
    '2 processes write exactly the one-process prediction (%s)',
    async (_, format, name, extra) => {
      const one = await cli(
        'predict',
        p('run'),
        p('image.tif'),
        '--format',
        format,
        ...TILING,
        '-o',
        p('one'),
      );
      expect(one.code).toBe(0);
      const two = await cli(
        'predict',
        p('run'),
        p('image.tif'),
        '--format',
        format,
        ...TILING,
        ...extra,
        '--workers',
        '2',
        '--region-size',
        '64',
        '-o',
        p('two'),
      );
      expect(two.stderr).not.toContain('error');
      expect(two.code).toBe(0);
      expect(two.stdout).toContain(`image.tif → ${p('two', name)} (YX 200×300`);
      expect(await pixelBytes(p('two', name))).toEqual(await pixelBytes(p('one', name)));
    },
    60_000,
  );

  it('refuses --workers with --queue, --device with --workers, and options of a way not taken', async () => {
    const both = await cli('predict', p('run'), p('image.tif'), '--workers', '2', '--queue', 'redis://h:1/0');
    expect(both.code).toBe(2);
    expect(errorLines(both.stderr)).toEqual([
      'careamics: error: --workers and --queue exclude each other: with --queue, start `careamics worker`s',
    ]);
    const gpu = await cli('predict', p('run'), p('image.tif'), '--workers', '2', '--device', 'webgpu');
    expect(gpu.code).toBe(2);
    // Options of the other ways are refused by name rather than ignored.
    for (const [option, value, line] of [
      ['--region-size', '512', '--region-size applies to --workers and --queue only'],
      ['--attempts', '5', '--attempts applies to --queue only'],
      ['--wait', undefined, '--wait applies to --queue only'],
    ] as const) {
      const args = value === undefined ? [option] : [option, value];
      const result = await cli('predict', p('run'), p('image.tif'), ...args);
      expect(result.code).toBe(2);
      expect(errorLines(result.stderr)).toEqual([`careamics: error: ${line}`]);
    }
  });
});

describe('threadsPerWorker and parseQueueUrl', () => {
  it('shares the cores out, at least one thread each', () => {
    expect(threadsPerWorker(2, 8)).toBe(4);
    expect(threadsPerWorker(3, 8)).toBe(2);
    expect(threadsPerWorker(4, 2)).toBe(1);
  });

  it('reads host, port, database and credentials', () => {
    expect(parseQueueUrl('redis://redis.lab:6380/2')).toEqual({ host: 'redis.lab', port: 6380, db: 2 });
    expect(parseQueueUrl('redis://localhost')).toEqual({ host: 'localhost', port: 6379, db: 0 });
    expect(parseQueueUrl('rediss://u:p%40ss@h:1/0')).toMatchObject({
      username: 'u',
      password: 'p@ss',
      tls: {},
    });
    expect(() => parseQueueUrl('redis://h:1/x')).toThrow('the database must be a number');
    expect(() => parseQueueUrl('h:1')).toThrow('expected redis://HOST:PORT/DB');
  });
});
