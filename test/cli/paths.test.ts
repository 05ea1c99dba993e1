import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { outputName } from '../../src/cli/predict.js';
import { resolveWorkDir } from '../../src/cli/train.js';
import { listImages } from '../../src/node.js';
import { tempDir } from './helpers.js';

it('names outputs after the input without its extensions', () => {
  expect(outputName('data/a.tif', 'tiff')).toBe('a_denoised.tif');
  expect(outputName('data/b.ome.tiff', 'tiff')).toBe('b_denoised.tif');
  expect(outputName('c.npy', 'zarr')).toBe('c_denoised.zarr');
  expect(outputName('d.zarr/', 'tiff')).toBe('d_denoised.tif');
  expect(outputName('e.v2.png', 'tiff')).toBe('e.v2_denoised.tif');
});

it('lists the images of a folder (files by extension, .zarr folders), sorted, nothing else', async () => {
  const { path: dir, cleanup } = await tempDir();
  try {
    for (const name of ['b.tif', 'a.npy', 'c.PNG', 'notes.txt']) await writeFile(join(dir, name), '');
    await mkdir(join(dir, 'z.zarr'));
    await mkdir(join(dir, 'sub'));
    expect(await listImages(dir)).toEqual(['a.npy', 'b.tif', 'c.PNG', 'z.zarr'].map((n) => join(dir, n)));
  } finally {
    await cleanup();
  }
});

it('trains into --work-dir, else the config folder when it is a run, else careamics_run next to the config', async () => {
  const { path: dir, cleanup } = await tempDir();
  try {
    expect(await resolveWorkDir(join(dir, 'config.yaml'), 'elsewhere')).toBe('elsewhere');
    expect(await resolveWorkDir(join(dir, 'config.yaml'))).toBe(join(dir, 'careamics_run'));
    await mkdir(join(dir, 'run', 'checkpoints'), { recursive: true });
    await writeFile(join(dir, 'run', 'checkpoints', 'last.safetensors'), '');
    expect(await resolveWorkDir(join(dir, 'run', 'config.yaml'))).toBe(join(dir, 'run'));
  } finally {
    await cleanup();
  }
});
