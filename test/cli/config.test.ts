import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigYaml, resolveLrScheduler, resolveTrainerParams } from '../../src/config/index.js';
import { cli } from './helpers.js';

const config = async (...args: string[]) => {
  const result = await cli('config', ...args, '-o', '-');
  expect(result.code, result.stderr).toBe(0);
  return loadConfigYaml(result.stdout).config;
};

describe('careamics config', () => {
  it('writes a time-budget schedule: cosine learning rate to the end of max_time, masking and learning rate', async () => {
    const c = await config(
      'n2v',
      '--lr-scheduler',
      'CosineAnnealingLR',
      '--max-time',
      '00:01:00:00',
      '--learning-rate',
      '2e-3',
      '--masked-pixel-percentage',
      '1',
      '--roi-size',
      '5',
    );
    expect(resolveLrScheduler(c.algorithm_config.lr_scheduler)).toEqual({
      name: 'CosineAnnealingLR',
      T_max: null,
      eta_min: 0,
    });
    expect(resolveTrainerParams(c.training_config).max_time_seconds).toBe(3600);
    expect(c.algorithm_config.optimizer.parameters).toEqual({ lr: 2e-3 });
    const n2v = c.algorithm_config.algorithm === 'n2v' ? c.algorithm_config.n2v_config : undefined;
    expect(n2v).toMatchObject({ masked_pixel_percentage: 1, roi_size: 5 });
  });

  it('gives CARE targets their own axes', async () => {
    const c = await config('care', '--axes', 'SCYX', '--n-channels', '2', '--target-axes', 'SYX');
    expect(c.data_config.axes).toBe('SCYX');
    expect(c.data_config.target_axes).toBe('SYX');
  });

  it('refuses options that do not apply to the algorithm, and a bad --max-time, naming them', async () => {
    const refused = async (pattern: RegExp, ...args: string[]) => {
      const result = await cli('config', ...args, '-o', '-');
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(pattern);
    };
    await refused(/--target-axes applies to care and n2n, not n2v/, 'n2v', '--target-axes', 'YX');
    await refused(/--roi-size applies to n2v, n2v2, structn2v and pn2v, not care/, 'care', '--roi-size', '5');
    await refused(/max_time.*DD:HH:MM:SS/, 'n2v', '--max-time', '1 hour');
    await refused(/--lr-scheduler.*Allowed choices/, 'n2v', '--lr-scheduler', 'OneCycleLR');
  });
});

describe('careamics info on a configuration', () => {
  it('prints which CAREamics release wrote it and what was ignored', async () => {
    const path = fileURLToPath(new URL('../config/fixtures/careamics-v0.0.15.yaml', import.meta.url));
    const result = await cli('info', path);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /careamics_version +0\.0\.13 to 0\.0\.15 shape \(config version 0\.1\.0\)\n/,
    );
    expect(result.stdout).toContain(
      'algorithm_config.n2v_config.remove_center: true is what careamics-js does',
    );
  });
});
