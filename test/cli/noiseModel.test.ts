/** `careamics noise-model fit|bootstrap`: CAREamics .npz and nm.png out, one-line errors. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/index.js';
import { writeImage } from '../../src/io/node/index.js';
import { type GaussianMixtureNoiseModel, loadNoiseModel } from '../../src/node.js';
import { cli, errorLines, tempDir } from './helpers.js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

describe('careamics noise-model', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const p = (...parts: string[]) => join(dir, ...parts);
  const gain = 2;
  const read = 5;

  beforeAll(async () => {
    ({ path: dir, cleanup } = await tempDir());
    // Calibration data: one clean 64×64 image (a ramp) and 4 noisy repeats of it, Poisson-Gaussian.
    const rng = new Rng(5);
    const side = 64;
    const clean = Float32Array.from(
      { length: side * side },
      (_, i) => 50 + (i % side) * 15 + Math.floor(i / side) * 5,
    );
    const noisy = new Float32Array(4 * clean.length);
    for (let r = 0; r < 4; r++) {
      clean.forEach((s, i) => {
        noisy[r * clean.length + i] = s + Math.sqrt(gain * s + read * read) * rng.normal();
      });
    }
    await writeImage(p('clean.tif'), { data: clean, shape: [side, side] }, { axes: 'YX' });
    await writeImage(p('noisy.tif'), { data: noisy, shape: [4, side, side] }, { axes: 'SYX' });
  });
  afterAll(() => cleanup());

  it('fits a Gaussian mixture to calibration data, writing the .npz and its plot', async () => {
    const args = ['noise-model', 'fit', '--observation', p('noisy.tif'), '--signal', p('clean.tif')];
    const fast = ['--epochs', '300', '--batch-size', '8000', '--min-sigma', '1'];
    const result = await cli(...args, ...fast, '-o', p('nm.npz'));
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/epoch 300\/300 {2}−log p \d/);
    expect(result.stdout).toMatch(
      /^wrote .*nm\.npz \(GaussianMixtureNoiseModel, 1 Gaussian\(s\), 2 coefficients/,
    );
    const model = (await loadNoiseModel(p('nm.npz'))) as GaussianMixtureNoiseModel;
    // Slope of the variance: exp(w₁₁) = gain · (max − min).
    expect(Math.exp(model.weight[1]![1]!) / (gain * (model.max_signal - model.min_signal))).toBeCloseTo(1, 0);
    expect([...(await readFile(p('nm.png'))).subarray(0, 4)]).toEqual(PNG_MAGIC);

    const again = await cli(...args, ...fast, '-o', p('nm.npz'));
    expect(again.code).toBe(1);
    expect(errorLines(again.stderr)).toEqual([
      `careamics: error: ${p('nm.npz')}: already exists; pass --force to overwrite it`,
    ]);
  });

  it('estimates a Gaussian from pairs, or from the noisy images alone', async () => {
    const pairs = await cli(
      'noise-model',
      'fit',
      '--model',
      'gaussian',
      '--observation',
      p('noisy.tif'),
      '--signal',
      p('clean.tif'),
      '-o',
      p('g.npz'),
    );
    expect(pairs.code).toBe(0);
    expect(pairs.stdout).toMatch(/GaussianNoiseModel, sigma \d/);
    const alone = await cli(
      'noise-model',
      'fit',
      '--model',
      'gaussian',
      '--observation',
      p('noisy.tif'),
      '-o',
      p('g2.npz'),
    );
    expect(alone.code).toBe(0);
    const fromPairs = await loadNoiseModel(p('g.npz'));
    const fromNoisy = await loadNoiseModel(p('g2.npz'));
    if (fromPairs.model_type !== 'GaussianNoiseModel' || fromNoisy.model_type !== 'GaussianNoiseModel')
      throw new Error('not Gaussian');
    // The ramp's noise std runs from 12 to 50; both estimates land inside that range.
    for (const sigma of [fromPairs.sigma, fromNoisy.sigma]) {
      expect(sigma).toBeGreaterThan(12);
      expect(sigma).toBeLessThan(50);
    }
  });

  it('refuses bad arguments and files in one line', async () => {
    const notNpz = await cli(
      'noise-model',
      'fit',
      '--observation',
      p('noisy.tif'),
      '--signal',
      p('clean.tif'),
      '-o',
      p('nm.txt'),
    );
    expect(notNpz.code).toBe(2);
    expect(errorLines(notNpz.stderr)).toEqual([
      `careamics: error: -o ${p('nm.txt')}: a noise model ends in .npz`,
    ]);
    const noSignal = await cli('noise-model', 'fit', '--observation', p('noisy.tif'), '-o', p('x.npz'));
    expect(noSignal.code).toBe(2);
    expect(noSignal.stderr).toContain('--signal is required to fit a gmm');
    const missing = await cli(
      'noise-model',
      'fit',
      '--observation',
      p('none.tif'),
      '--signal',
      p('clean.tif'),
      '-o',
      p('x.npz'),
    );
    expect(missing.code).toBe(1);
    expect(errorLines(missing.stderr)).toEqual([
      `careamics: error: ${p('none.tif')}: no such file or directory`,
    ]);
    const mismatch = await cli(
      'noise-model',
      'fit',
      '--observation',
      p('clean.tif'),
      '--signal',
      p('noisy.tif'),
      '-o',
      p('x.npz'),
    );
    expect(mismatch.code).toBe(1);
    expect(errorLines(mismatch.stderr)[0]).toContain('observation [1, 4096] does not match signal [4, 4096]');
    const badSigma = await cli(
      'noise-model',
      'fit',
      '--observation',
      p('noisy.tif'),
      '--signal',
      p('clean.tif'),
      '--min-sigma',
      '-1',
      '-o',
      p('x.npz'),
    );
    expect(badSigma.code).toBe(1);
    expect(errorLines(badSigma.stderr)[0]).toMatch(/^careamics: error: min_sigma: /);
    expect(existsSync(p('x.npz'))).toBe(false);
    expect(existsSync(p('x.png'))).toBe(false);
  });

  it('bootstraps from a trained N2V run: its prediction as the signal', async () => {
    const config = [
      'config',
      'n2v',
      '--patch-size',
      '32',
      '32',
      '--batch-size',
      '4',
      '--epochs',
      '1',
      '--seed',
      '3',
    ];
    expect((await cli(...config, '-o', p('n2v.yaml'))).code).toBe(0);
    await writeImage(
      p('one.tif'),
      {
        data: new Float32Array(128 * 128).map((_, i) => 100 + (i % 128) * 5 + 20 * Math.sin(i)),
        shape: [128, 128],
      },
      { axes: 'YX' },
    );
    const trained = await cli('train', p('n2v.yaml'), '--train-source', p('one.tif'), '--work-dir', p('run'));
    expect(trained.code, trained.stderr).toBe(0);
    const result = await cli(
      'noise-model',
      'bootstrap',
      p('run'),
      p('one.tif'),
      '-o',
      p('boot.npz'),
      '--epochs',
      '50',
      '--min-sigma',
      '1',
    );
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote .*boot\.npz \(GaussianMixtureNoiseModel/);
    expect((await loadNoiseModel(p('boot.npz'))).model_type).toBe('GaussianMixtureNoiseModel');
    expect(existsSync(p('boot.png'))).toBe(true);
  });
});
