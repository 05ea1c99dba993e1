import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImage, writeImage } from '../../src/io/node/index.js';
import { CAREamist, toPredictionNormalization } from '../../src/node.js';
import { cli, listTree, tempDir, writeNoise } from './helpers.js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

async function pixels(path: string): Promise<{ data: Float32Array; shape: readonly number[] }> {
  const source = await openImage(path);
  const { data } = await source.read();
  return { data: Float32Array.from(data), shape: source.shape };
}

describe('careamics config → train → predict → export → info → predict from the zip', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const p = (...parts: string[]) => join(dir, ...parts);

  beforeAll(async () => {
    ({ path: dir, cleanup } = await tempDir());
    await writeNoise(p('noise.tif'));
  });
  afterAll(() => cleanup());

  it('writes a full config and refuses to overwrite it without --force', async () => {
    const args = [
      'config',
      'n2v',
      '--patch-size',
      '32',
      '32',
      '--batch-size',
      '4',
      '--epochs',
      '2',
      '--seed',
      '7',
    ];
    const first = await cli(...args, '-o', p('config.yaml'));
    expect(first.code).toBe(0);
    const yaml = await readFile(p('config.yaml'), 'utf8');
    expect(yaml).toContain('patch_size:');
    expect(yaml).toContain('roi_size: 11');
    expect(yaml).toContain('max_epochs: 2');
    const again = await cli(...args, '-o', p('config.yaml'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/config\.yaml: already exists; pass --force/);
    expect((await cli(...args, '-o', p('config.yaml'), '--force')).code).toBe(0);
  });

  it('trains into careamics_run next to the config, with a loss chart', async () => {
    const result = await cli('train', p('config.yaml'), '--train-source', p('noise.tif'));
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/epoch 2\/2 {2}train_loss \d/);
    expect(result.stdout).toContain('* train');
    expect(result.stdout).toContain('trained 2 epochs');
    const run = p('careamics_run');
    for (const file of ['config.yaml', 'trainer.json', 'losses.csv', 'checkpoints/last.safetensors']) {
      expect(existsSync(join(run, file)), file).toBe(true);
    }
    const png = await readFile(join(run, 'losses.png'));
    expect([...png.subarray(0, 4)]).toEqual(PNG_MAGIC);
  });

  it('refuses to train over an existing run, and resumes one with more epochs', async () => {
    const refused = await cli('train', p('config.yaml'), '--train-source', p('noise.tif'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/careamics_run: already holds a training run; pass --resume/);
    const resumed = await cli(
      'train',
      p('config.yaml'),
      '--train-source',
      p('noise.tif'),
      '--resume',
      '--epochs',
      '3',
    );
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('trained 3 epochs');
    const csv = await readFile(p('careamics_run', 'losses.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(4);
  });

  it('predicts an image of the same shape into predictions/ next to the source', async () => {
    const result = await cli(
      'predict',
      p('careamics_run'),
      p('noise.tif'),
      '--tile-size',
      '64',
      '64',
      '--tile-overlap',
      '16',
      '16',
    );
    expect(result.code).toBe(0);
    const out = await pixels(p('predictions', 'noise_denoised.tif'));
    expect(out.shape).toEqual([128, 128]);
    expect(out.data.every(Number.isFinite)).toBe(true);
  });

  it('exports a BMZ zip that info describes and that predicts the same image', async () => {
    const exported = await cli(
      'export',
      p('careamics_run'),
      '-o',
      p('model.zip'),
      '--name',
      'CLI test model',
      '--authors',
      'Ada Lovelace; Alan Turing',
      '--input',
      p('noise.tif'),
    );
    // Nothing on stderr but the device line.
    expect(exported.stderr).toMatch(/^device: cpu \(\d+ CPU threads?\)\n$/);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/model\.zip .*test passes/);

    const info = await cli('info', p('model.zip'), '--json');
    expect(info.code).toBe(0);
    const described = JSON.parse(info.stdout);
    expect(described).toMatchObject({
      kind: 'BMZ package',
      name: 'CLI test model',
      authors: 'Ada Lovelace; Alan Turing',
      algorithm: 'n2v, loss n2v',
    });
    expect(described.test).toMatch(/^passed/);
    expect(described.normalization).toMatch(/^mean \[1\d\d\.\d+\], std \[\d/);
    expect(described.loads_as).toBe("CAREamist, trainable (CAREamics' state dict and careamics.yaml)");
    expect(described.onnx).toBe('also packaged (--frozen)');

    const fromZip = await cli(
      'predict',
      p('model.zip'),
      p('noise.tif'),
      '-o',
      p('from-zip'),
      '--tile-size',
      '64',
      '64',
      '--tile-overlap',
      '16',
      '16',
    );
    expect(fromZip.code).toBe(0);
    expect(fromZip.stderr).toContain(`model: ${p('model.zip')} as CAREamist, trainable`);
    const a = await pixels(p('predictions', 'noise_denoised.tif'));
    const b = await pixels(p('from-zip', 'noise_denoised.tif'));
    expect(b.shape).toEqual(a.shape);
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    expect(maxDiff).toBeLessThan(1e-4);

    const frozen = await cli(
      'predict',
      p('model.zip'),
      p('noise.tif'),
      '-o',
      p('from-onnx'),
      '--frozen',
      '--tile-size',
      '64',
      '64',
      '--tile-overlap',
      '16',
      '16',
    );
    expect(frozen.code).toBe(0);
    expect(frozen.stderr).toContain(
      "as FrozenModel, predicts only (the package's ONNX weights and processing)",
    );
    const c = await pixels(p('from-onnx', 'noise_denoised.tif'));
    let onnxDiff = 0;
    for (let i = 0; i < a.data.length; i++) onnxDiff = Math.max(onnxDiff, Math.abs(a.data[i] - c.data[i]));
    expect(onnxDiff).toBeLessThan(1e-3);
    const misused = await cli('predict', p('careamics_run'), p('noise.tif'), '--frozen');
    expect(misused.code).toBe(2);
    expect(misused.stderr).toContain('--frozen applies to BMZ .zip packages only');
  });

  it('describes images, work dirs, checkpoints, configs and ONNX files', async () => {
    const image = await cli('info', p('noise.tif'), '--json');
    expect(JSON.parse(image.stdout)).toMatchObject({ shape: '128 × 128', dtype: 'float32' });
    expect(Number(JSON.parse(image.stdout).min)).toBeGreaterThanOrEqual(100);
    const run = JSON.parse((await cli('info', p('careamics_run'), '--json')).stdout);
    expect(run).toMatchObject({ kind: 'work dir', parameters: expect.any(Number) });
    expect(run.training).toMatch(/^3 epoch\(s\)/);
    const checkpoint = await cli('info', p('careamics_run', 'checkpoints', 'last.safetensors'));
    expect(checkpoint.stdout).toMatch(/architecture +UNet, depth 2, 32 initial filters, 2D/);
    const config = await cli('info', p('config.yaml'));
    expect(config.stdout).toMatch(/max_epochs +2/);
    const careamist = await CAREamist.load(p('careamics_run'));
    await writeFile(p('model.onnx'), careamist.exportOnnx());
    const onnx = JSON.parse((await cli('info', p('model.onnx'), '--json')).stdout);
    expect(onnx.architecture).toMatch(/^2D, 1 → 1 channel\(s\), depth 2/);
  });

  it('predicts with a bare .onnx model given the training statistics', async () => {
    const refused = await cli('predict', p('model.onnx'), p('noise.tif'), '-o', p('from-onnx'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/model\.onnx: an \.onnx model needs --mean and --std/);
    const { mean, std } = toPredictionNormalization((await CAREamist.load(p('careamics_run'))).statistics!);
    const args = [
      '--mean',
      String(mean[0]),
      '--std',
      String(std[0]),
      '--tile-size',
      '64',
      '64',
      '--tile-overlap',
      '16',
      '16',
    ];
    const result = await cli('predict', p('model.onnx'), p('noise.tif'), '-o', p('from-onnx'), ...args);
    expect(result.code).toBe(0);
    const a = await pixels(p('predictions', 'noise_denoised.tif'));
    const b = await pixels(p('from-onnx', 'noise_denoised.tif'));
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it("falls back to the file's axes when the training axes do not fit (an SYX stack for a YX model)", async () => {
    const data = Float32Array.from({ length: 2 * 64 * 64 }, (_, i) => 100 + ((i * 7919) % 20));
    await writeImage(p('stack.tif'), { data, shape: [2, 64, 64] }, { axes: 'SYX' });
    const result = await cli('predict', p('careamics_run'), p('stack.tif'));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/stack\.tif: the training axes YX do not fit shape \[2,64,64\]; using SYX/);
    expect((await pixels(p('predictions', 'stack_denoised.tif'))).shape).toEqual([2, 64, 64]);
  });

  it('predicts a folder to OME-Zarr, keeping names, and refuses to write into the input folder', async () => {
    await writeNoise(p('folder', 'a.tif'), 64, 2);
    await writeNoise(p('folder', 'b.tif'), 96, 3);
    const result = await cli(
      'predict',
      p('careamics_run'),
      p('folder'),
      '--format',
      'zarr',
      '-o',
      p('zarr-out'),
    );
    expect(result.code).toBe(0);
    expect((await pixels(p('zarr-out', 'b_denoised.zarr'))).shape).toEqual([96, 96]);
    expect(existsSync(p('zarr-out', 'a_denoised.zarr'))).toBe(true);
    const before = await listTree(p('folder'));
    const refused = await cli('predict', p('careamics_run'), p('folder'), '-o', p('folder'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/folder: is the input folder/);
    expect(await listTree(p('folder'))).toEqual(before);
  });
});

describe('careamics with a supervised algorithm (CARE)', () => {
  it('trains on source/target pairs with validation pairs and predicts', async () => {
    const { path: dir, cleanup } = await tempDir();
    const p = (...parts: string[]) => join(dir, ...parts);
    try {
      await writeNoise(p('low.tif'), 128, 1);
      await writeNoise(p('high.tif'), 128, 2);
      await writeNoise(p('val_low.tif'), 64, 3);
      await writeNoise(p('val_high.tif'), 64, 4);
      const config = ['config', 'care', '--patch-size', '32', '32', '--batch-size', '4', '--epochs', '1'];
      expect((await cli(...config, '-o', p('care.yaml'))).code).toBe(0);
      const missing = await cli('train', p('care.yaml'), '--train-source', p('low.tif'));
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('care learns from pairs: give --train-target');
      const pairs = ['--train-source', p('low.tif'), '--train-target', p('high.tif')];
      const val = ['--val-source', p('val_low.tif'), '--val-target', p('val_high.tif')];
      const trained = await cli('train', p('care.yaml'), ...pairs, ...val, '--work-dir', p('run'));
      expect(trained.code).toBe(0);
      expect(trained.stderr).toMatch(/epoch 1\/1 {2}train_loss \S+ {2}val_loss \d/);
      const predicted = await cli('predict', p('run'), p('val_low.tif'), '-o', p('out'));
      expect(predicted.code).toBe(0);
      expect((await pixels(p('out', 'val_low_denoised.tif'))).shape).toEqual([64, 64]);
    } finally {
      await cleanup();
    }
  });
});
