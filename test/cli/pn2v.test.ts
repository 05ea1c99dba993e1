import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigYaml } from '../../src/config/index.js';
import { encodeNoiseModelNpz } from '../../src/noise/npz.js';
import { pixelBytes } from '../distributed/helpers.js';
import { cli, tempDir, writeNoise } from './helpers.js';

describe('careamics config pn2v → train → predict (mmse and prior) → export refused', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const p = (...parts: string[]) => join(dir, ...parts);
  const small = ['--patch-size', '32', '32', '--batch-size', '4', '--epochs', '1', '--seed', '3'];

  beforeAll(async () => {
    ({ path: dir, cleanup } = await tempDir());
    await writeNoise(p('noise.tif'));
    await writeFile(
      p('nm.npz'),
      encodeNoiseModelNpz({
        model_type: 'GaussianMixtureNoiseModel',
        path: null,
        weight: [
          [0, 0],
          [Math.log(36), -30],
          [0, 0],
        ],
        n_gaussian: 1,
        n_coeff: 2,
        min_signal: 0,
        max_signal: 200,
        min_sigma: 1,
        tol: 1e-10,
      }),
    );
  });
  afterAll(() => cleanup());

  it('writes a samples-prior config from --noise-model and a Gaussian-prior one from --noise-sigma', async () => {
    const mixture = await cli(
      'config',
      'pn2v',
      '--noise-model',
      p('nm.npz'),
      '--samples',
      '8',
      ...small,
      '-o',
      '-',
    );
    expect(mixture.code, mixture.stderr).toBe(0);
    const m = loadConfigYaml(mixture.stdout).config.algorithm_config;
    expect(m.algorithm === 'pn2v' && m.noise_model).toMatchObject({
      model_type: 'GaussianMixtureNoiseModel',
      path: p('nm.npz'),
    });
    expect(m.model.num_classes).toBe(8);
    const gaussian = await cli('config', 'pn2v', '--noise-sigma', '6', ...small, '-o', p('config.yaml'));
    expect(gaussian.code, gaussian.stderr).toBe(0);
    const known = await cli('config', 'pn2v', '--noise-sigma', '6', '--samples', '8', ...small, '-o', '-');
    expect(known.code, known.stderr).toBe(0);
    const k = loadConfigYaml(known.stdout).config.algorithm_config;
    expect(k.algorithm === 'pn2v' && k.noise_model).toMatchObject({
      model_type: 'GaussianMixtureNoiseModel',
      n_gaussian: 1,
    });
    expect(k.model.num_classes).toBe(8);
    await writeFile(p('sigma.npz'), encodeNoiseModelNpz({ model_type: 'GaussianNoiseModel', sigma: 6 }));
    const fromFile = await cli('config', 'pn2v', '--noise-model', p('sigma.npz'), ...small, '-o', '-');
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const g = loadConfigYaml(fromFile.stdout).config.algorithm_config;
    expect(g.algorithm === 'pn2v' && g.noise_model).toEqual({ model_type: 'GaussianNoiseModel', sigma: 6 });
    expect(g.model.num_classes).toBe(2);
  });

  it('refuses pn2v without a noise model, a missing .npz, and noise options for other algorithms', async () => {
    const none = await cli('config', 'pn2v', '-o', '-');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/pn2v needs a noise model: --noise-model .* or --noise-sigma/);
    const missing = await cli('config', 'pn2v', '--noise-model', p('absent.npz'), '-o', '-');
    expect(missing.stderr).toMatch(/absent\.npz: no such noise model file/);
    const other = await cli('config', 'n2v', '--noise-sigma', '3', '-o', '-');
    expect(other.stderr).toMatch(/--noise-sigma applies to pn2v, not n2v/);
  });

  it('trains, predicts the posterior mean and the prior mean, and refuses BMZ export by name', async () => {
    const trained = await cli('train', p('config.yaml'), '--train-source', p('noise.tif'));
    expect(trained.code, trained.stderr).toBe(0);
    const run = p('careamics_run');
    for (const output of ['mmse', 'prior']) {
      const out = p(output);
      const result = await cli('predict', run, p('noise.tif'), '--pn2v-output', output, '-o', out);
      expect(result.code, result.stderr).toBe(0);
      expect(existsSync(join(out, 'noise_denoised.tif'))).toBe(true);
    }
    // Two worker processes write exactly what one process writes, for each output: --pn2v-output travels with the
    // jobs (it was once dropped there, and workers silently predicted the posterior mean).
    const tiling = ['--tile-size', '64', '64', '--tile-overlap', '16', '16'];
    const written: Record<string, Buffer> = {};
    for (const output of ['mmse', 'prior']) {
      const one = p(`${output}-one`);
      const two = p(`${output}-two`);
      const single = await cli('predict', run, p('noise.tif'), '--pn2v-output', output, ...tiling, '-o', one);
      expect(single.code, single.stderr).toBe(0);
      const workers = await cli(
        'predict',
        run,
        p('noise.tif'),
        '--pn2v-output',
        output,
        ...tiling,
        '--workers',
        '2',
        '--region-size',
        '64',
        '-o',
        two,
      );
      expect(workers.code, workers.stderr).toBe(0);
      written[output] = await pixelBytes(join(one, 'noise_denoised.tif'));
      expect(await pixelBytes(join(two, 'noise_denoised.tif'))).toEqual(written[output]);
    }
    expect(written.prior).not.toEqual(written.mmse);
    const info = await cli('info', run);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/pn2v/);
    const exported = await cli('export', run, '-o', p('model.zip'), '--name', 'pn2v', '--authors', 'Ada');
    expect(exported.code).not.toBe(0);
    expect(exported.stderr).toMatch(/BMZ export of pn2v is not supported yet/);
  }, 120_000);
});
