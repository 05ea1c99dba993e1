/** `careamics train` on a folder of 16-bit PNG frames (the FMD dataset's format) made with the default config. */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Rng } from '../../src/data/index.js';
import { writeImage } from '../../src/io/node/index.js';
import { cli, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const p = (...parts: string[]) => join(dir, ...parts);

beforeAll(async () => {
  ({ path: dir, cleanup } = await tempDir());
  await mkdir(p('frames'));
  const rng = new Rng(5);
  for (const name of ['frame_1.png', 'frame_2.png']) {
    const data = Uint16Array.from({ length: 128 * 128 }, () => 1000 + Math.floor(500 * rng.random()));
    await writeImage(p('frames', name), { data, shape: [128, 128] }, { axes: 'YX' });
  }
});
afterAll(() => cleanup());

it('trains on a folder of 16-bit PNGs, warning that the config says tiff', async () => {
  const config = ['config', 'n2v', '--patch-size', '32', '32', '--batch-size', '4', '--epochs', '1'];
  expect((await cli(...config, '-o', p('config.yaml'))).code).toBe(0);
  const result = await cli('train', p('config.yaml'), '--train-source', p('frames'), '--work-dir', p('run'));
  expect(result.stderr).not.toContain('error');
  expect(result.code).toBe(0);
  expect(result.stderr).toContain(
    `careamics: warning: ${p('frames')}: data_type is "tiff" but the folder holds png images; reading them`,
  );
  expect(result.stdout).toContain('trained 1 epochs');
  expect(existsSync(p('run', 'checkpoints', 'last.safetensors'))).toBe(true);
});
