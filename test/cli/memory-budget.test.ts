/** `careamics train --memory-budget`: data over the budget trains out of core, announced in one line. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteSize } from '../../src/cli/shared.js';
import { cli, tempDir, writeNoise } from './helpers.js';

describe('--memory-budget', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const p = (...parts: string[]) => join(dir, ...parts);

  beforeAll(async () => {
    ({ path: dir, cleanup } = await tempDir());
    await writeNoise(p('noise.tif'));
    const config = ['config', 'n2v', '--patch-size', '32', '32', '--batch-size', '4', '--epochs', '1'];
    expect((await cli(...config, '--seed', '3', '-o', p('config.yaml'))).code).toBe(0);
  });
  afterAll(() => cleanup());

  it('parses sizes with binary and decimal units', () => {
    expect(byteSize('1GiB')).toBe(2 ** 30);
    expect(byteSize('512 MiB')).toBe(512 * 2 ** 20);
    expect(byteSize('2GB')).toBe(2e9);
    expect(byteSize('1.5g')).toBe(1.5e9);
    expect(byteSize('4096')).toBe(4096);
    for (const bad of ['', 'lots', '-1GiB', '0', '1 parsec']) expect(() => byteSize(bad)).toThrow(/1GiB/);
  });

  it('trains out of core with a one-line notice when the data exceeds the budget', async () => {
    const result = await cli(
      'train',
      p('config.yaml'),
      '--train-source',
      p('noise.tif'),
      '--work-dir',
      p('run'),
      '--memory-budget',
      '16KiB',
    );
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      'careamics: the training data (64 KiB) exceeds the memory budget (16 KiB): training out of core, reading patches from the files on demand\n',
    );
    expect(result.stdout).toContain('trained 1 epochs');
  });

  it('refuses a budget that is not a size, as a usage error', async () => {
    const result = await cli(
      'train',
      p('config.yaml'),
      '--train-source',
      p('noise.tif'),
      '--memory-budget',
      'lots',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--memory-budget.*1GiB/);
  });
});
