import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeAdapter } from '../../src/node.js';
import { cli, errorLines, listTree, tempDir, writeNoise } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/careamics.js', import.meta.url));

describe('careamics errors: one line naming the problem, a non-zero exit, no output left behind', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const p = (...parts: string[]) => join(dir, ...parts);

  beforeAll(async () => {
    ({ path: dir, cleanup } = await tempDir());
    await writeNoise(p('noise.tif'), 64);
    const config = await cli(
      'config',
      'n2v',
      '--patch-size',
      '32',
      '32',
      '--epochs',
      '1',
      '-o',
      p('config.yaml'),
    );
    expect(config.code).toBe(0);
  });
  afterAll(() => cleanup());

  /** Runs, expects `code` and one error line matching `pattern`, and that the temp dir did not change. */
  async function fails(code: number, pattern: RegExp, ...argv: string[]) {
    const before = await listTree(dir);
    const result = await cli(...argv);
    expect(result.code).toBe(code);
    const lines = errorLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(result.stderr).not.toContain('    at ');
    expect(await listTree(dir)).toEqual(before);
    return result;
  }

  it('missing input files', async () => {
    await fails(1, /missing\.tif: no such file or directory$/, 'predict', p('config.yaml'), p('missing.tif'));
    await fails(
      1,
      /missing\.tif: no such file or directory$/,
      'train',
      p('config.yaml'),
      '--train-source',
      p('missing.tif'),
    );
    await fails(
      1,
      /missing\.yaml: no such file$/,
      'train',
      p('missing.yaml'),
      '--train-source',
      p('noise.tif'),
    );
    await fails(1, /nowhere: no such file or directory$/, 'info', p('nowhere'));
  });

  it('a config where a model is expected', async () => {
    await fails(
      2,
      /config\.yaml: a configuration, not a trained model/,
      'predict',
      p('config.yaml'),
      p('noise.tif'),
    );
  });

  it('bad axes: invalid letters (usage) and axes that do not fit the image', async () => {
    await fails(
      2,
      /--axes <axes>' argument 'QX' is invalid\. invalid axes "QX"/,
      'info',
      p('noise.tif'),
      '--axes',
      'QX',
    );
    await fails(
      1,
      /noise\.tif: axes "SYX" for shape \[64, 64\]: 3 letters but the array has 2 dimensions/,
      'info',
      p('noise.tif'),
      '--axes',
      'SYX',
    );
    await fails(
      2,
      /--patch-size needs 3 values \(Z Y X\) for axes ZYX, got 2/,
      'config',
      'n2v',
      '--axes',
      'ZYX',
      '--patch-size',
      '32',
      '32',
      '-o',
      p('z.yaml'),
    );
  });

  it('bad YAML and invalid fields name the file and the field', async () => {
    await writeFile(p('broken.yaml'), 'version: 0.3.0\nalgorithm_config: [\n');
    await fails(
      1,
      /^careamics: error: .*broken\.yaml: malformed YAML: /,
      'train',
      p('broken.yaml'),
      '--train-source',
      p('noise.tif'),
    );
    const valid = await readFile(p('config.yaml'), 'utf8');
    await writeFile(
      p('odd.yaml'),
      valid.replace(/patch_size:\n\s+- 32\n\s+- 32/, 'patch_size:\n      - 30\n      - 30'),
    );
    await fails(
      1,
      /odd\.yaml: data_config\.patching\.patch_size: must be divisible by 2\*\*depth=4, got \[30, 30\]$/,
      'train',
      p('odd.yaml'),
      '--train-source',
      p('noise.tif'),
    );
    await fails(
      2,
      /data_config\.patching\.patch_size: must be divisible/,
      'config',
      'n2v',
      '--patch-size',
      '30',
      '30',
      '-o',
      p('x.yaml'),
    );
  });

  it('unknown algorithm, unknown option and missing arguments are usage errors (exit 2)', async () => {
    await fails(
      2,
      /--n-channels is required when axes "CYX" have C/,
      'config',
      'n2v',
      '--axes',
      'CYX',
      '-o',
      p('c.yaml'),
    );
    await fails(
      2,
      /--struct-span needs --struct-axis/,
      'config',
      'n2v',
      '--struct-span',
      '5',
      '-o',
      p('c.yaml'),
    );
    await fails(
      2,
      /value 'hdn' is invalid for argument 'algorithm'\. Allowed choices are n2v, n2v2, structn2v, pn2v, care, n2n/,
      'config',
      'hdn',
      '-o',
      p('y.yaml'),
    );
    await fails(
      2,
      /unknown option '--patch-sze' \(Did you mean --patch-size\?\)/,
      'config',
      'n2v',
      '--patch-sze',
      '32',
    );
    await fails(2, /missing required argument 'source'/, 'predict', p('config.yaml'));
    await fails(2, /required option '--train-source <path>' not specified/, 'train', p('config.yaml'));
    await fails(
      2,
      /n2v is self-supervised/,
      'train',
      p('config.yaml'),
      '--train-source',
      p('noise.tif'),
      '--train-target',
      p('noise.tif'),
    );
    await fails(
      2,
      /a BMZ package ends in \.zip/,
      'export',
      p('run'),
      '-o',
      p('model.bin'),
      '--name',
      'x model',
      '--authors',
      'A',
    );
  });

  it.skipIf(describeAdapter() !== undefined)(
    '--device webgpu without an adapter: one line, exit 1, nothing written',
    async () => {
      const noAdapter = /no WebGPU adapter \(.+\); --device cpu works/;
      await fails(
        1,
        noAdapter,
        'train',
        p('config.yaml'),
        '--train-source',
        p('noise.tif'),
        '--device',
        'webgpu',
      );
    },
  );

  it('--resume needs a checkpoint and excludes --force', async () => {
    const train = ['train', p('config.yaml'), '--train-source', p('noise.tif')];
    await fails(
      1,
      /careamics_run[/\\]checkpoints[/\\]last\.safetensors: no checkpoint to resume from/,
      ...train,
      '--resume',
    );
    await fails(2, /--resume and --force cannot be used together/, ...train, '--resume', '--force');
  });

  it('predicting into the input folder is refused before anything runs', async () => {
    await writeNoise(p('inputs', 'a.tif'), 64);
    await fails(
      1,
      /inputs: is the input folder/,
      'predict',
      p('config.yaml'),
      p('inputs'),
      '-o',
      p('inputs'),
    );
  });

  it('--verbose adds the stack', async () => {
    const result = await cli('info', p('noise.tif'), '--axes', 'SYX', '--verbose');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('    at ');
  });

  it('the bin shim exits 2 on an unknown option and 0 with --help', () => {
    const bad = spawnSync(process.execPath, [BIN, 'info', '--bogus'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe("careamics: error: unknown option '--bogus'");
    const help = spawnSync(process.execPath, [BIN, 'predict', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--tile-overlap');
    expect(existsSync(BIN)).toBe(true);
  });
});
