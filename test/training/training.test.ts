import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { psnr } from '../../src/metrics/index.js';
import { CAREamist, createCareConfig, createN2VConfig, isCareamicsError } from '../../src/node.js';
import { addNoise, cleanImage, source } from './synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'careamics-training-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('training end to end (small synthetic images)', () => {
  it('N2V lowers the validation loss and denoises: PSNR above the noisy input', async () => {
    const clean = cleanImage(256, 256);
    const noisy = addNoise(clean, 25, 1);
    const config = createN2VConfig({
      experimentName: 'n2v',
      dataType: 'array',
      axes: 'YX',
      patchSize: [32, 32],
      batchSize: 8,
      numEpochs: 15,
      seed: 1,
    });
    const careamist = new CAREamist(config, { workDir: join(tmp, 'n2v') });
    await careamist.train({ trainSource: [source(noisy, [256, 256])] });
    const { val_epoch } = careamist.getLosses();
    expect(val_epoch).toHaveLength(15);
    const mean = (xs: (number | null)[]) => xs.reduce((a: number, b) => a + b!, 0) / xs.length;
    expect(mean(val_epoch.slice(-3))).toBeLessThan(mean(val_epoch.slice(0, 3)));
    const denoised = await careamist.predict(
      { data: noisy, shape: [256, 256], axes: 'YX' },
      { tileSize: [128, 128], tileOverlap: [48, 48] },
    );
    expect(denoised.shape).toEqual([256, 256]);
    expect(psnr(clean, denoised.data as Float32Array, 255)).toBeGreaterThan(psnr(clean, noisy, 255) + 2);
    // The run folder has what CAREamics users expect, and the config carries the computed statistics.
    const yaml = readFileSync(join(tmp, 'n2v', 'config.yaml'), 'utf8');
    expect(yaml).toMatch(/input_means:\n\s+- \d/);
    expect(
      readFileSync(join(tmp, 'n2v', 'losses.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(16);
  });

  it('CARE on noisy → clean pairs beats the noisy input', async () => {
    const clean = cleanImage(256, 256);
    const noisy = addNoise(clean, 30, 2);
    const config = createCareConfig({
      experimentName: 'care',
      dataType: 'array',
      axes: 'YX',
      patchSize: [32, 32],
      batchSize: 8,
      numEpochs: 10,
      seed: 2,
    });
    const careamist = new CAREamist(config);
    await careamist.train({
      trainSource: [source(noisy, [256, 256])],
      trainTarget: [source(clean, [256, 256], 'clean.tif')],
    });
    const denoised = await careamist.predict(
      { data: noisy, shape: [256, 256], axes: 'YX' },
      { tileSize: [128, 128], tileOverlap: [48, 48] },
    );
    expect(psnr(clean, denoised.data as Float32Array, 255)).toBeGreaterThan(psnr(clean, noisy, 255) + 3);
  });

  it('a killed run resumes from its last checkpoint and ends with the epoch count of an uninterrupted run', async () => {
    const workDir = join(tmp, 'killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'train-child.ts'), workDir, '6'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('epoch 2')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) =>
        code === 0 ? reject(new Error('the child finished before it was killed')) : resolve(),
      );
    });
    await new Promise((r) => child.on('close', r));
    const before = JSON.parse(readFileSync(join(workDir, 'trainer.json'), 'utf8'));
    expect(before.epoch).toBeGreaterThanOrEqual(3);
    expect(before.epoch).toBeLessThan(6);

    const resumed = await CAREamist.load(workDir, { workDir });
    await resumed.train(
      { trainSource: [source(addNoise(cleanImage(128, 128), 20, 3), [128, 128])] },
      { resume: true },
    );
    const after = JSON.parse(readFileSync(join(workDir, 'trainer.json'), 'utf8'));
    expect(after.epoch).toBe(6);
    expect(after.history.map((r: { epoch: number }) => r.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(resumed.getLosses().train_epoch).toHaveLength(6);

    // Resuming restores weights, optimizer state, scheduler and the data RNG: the epochs after the kill
    // repeat those of an uninterrupted run.
    const uninterrupted = join(tmp, 'uninterrupted');
    await new Promise<void>((resolve, reject) => {
      const run = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'train-child.ts'), uninterrupted, '6'],
        {
          stdio: 'ignore',
        },
      );
      run.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
    });
    const reference = JSON.parse(readFileSync(join(uninterrupted, 'trainer.json'), 'utf8'));
    after.history.forEach((r: { train_loss: number }, i: number) => {
      expect(r.train_loss).toBeCloseTo(reference.history[i].train_loss, 5);
    });
  });

  it('stops cleanly when aborted, naming the cancellation', async () => {
    const controller = new AbortController();
    const config = createN2VConfig({
      experimentName: 'abort',
      dataType: 'array',
      axes: 'YX',
      patchSize: [32, 32],
      batchSize: 4,
      numEpochs: 50,
      seed: 3,
    });
    const careamist = new CAREamist(config, {
      callbacks: { onStep: (p) => p.globalStep === 3 && controller.abort() },
    });
    const error = await careamist
      .train(
        { trainSource: [source(addNoise(cleanImage(128, 128), 20, 4), [128, 128])] },
        { signal: controller.signal },
      )
      .catch((e) => e);
    expect(isCareamicsError(error, 'TrainingError')).toBe(true);
    expect(error.message).toMatch(/cancelled/);
  });

  it('refuses CARE without targets and images smaller than the patch, naming the problem', async () => {
    const care = new CAREamist(
      createCareConfig({
        experimentName: 'x',
        dataType: 'array',
        axes: 'YX',
        patchSize: [32, 32],
        batchSize: 4,
        numEpochs: 1,
      }),
    );
    await expect(care.train({ trainSource: [source(new Float32Array(64 * 64), [64, 64])] })).rejects.toThrow(
      /CARE needs training targets/,
    );
    const n2v = new CAREamist(
      createN2VConfig({
        experimentName: 'x',
        dataType: 'array',
        axes: 'YX',
        patchSize: [64, 64],
        batchSize: 4,
        numEpochs: 1,
      }),
    );
    await expect(
      n2v.train({ trainSource: [source(new Float32Array(32 * 32), [32, 32], 'tiny.tif')] }),
    ).rejects.toThrow(/tiny\.tif/);
  });
});

describe('predictToDisk', () => {
  it('predicts a folder into another, keeping file names, and refuses to overwrite its input', async () => {
    const { writeImage } = await import('../../src/node.js');
    const folder = join(tmp, 'inputs');
    mkdirSync(folder);
    const noisy = addNoise(cleanImage(128, 128), 20, 11);
    await writeImage(join(folder, 'a.tif'), { data: noisy, shape: [128, 128] }, { axes: 'YX' });
    await writeImage(join(folder, 'b.tif'), { data: noisy, shape: [128, 128] }, { axes: 'YX' });
    const config = createN2VConfig({
      experimentName: 'disk',
      dataType: 'tiff',
      axes: 'YX',
      patchSize: [32, 32],
      batchSize: 4,
      numEpochs: 1,
      seed: 12,
    });
    const careamist = new CAREamist(config);
    await careamist.train({ trainSource: folder });
    const out = join(tmp, 'outputs');
    await careamist.predictToDisk(folder, out, { tileSize: [128, 128] });
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(out).sort()).toEqual(['a.tif', 'b.tif']);
    await expect(careamist.predictToDisk(folder, folder)).rejects.toThrow(/overwrite the input/);
    await expect(careamist.predictToDisk(join(folder, 'a.tif'), join(folder, 'a.tif'))).rejects.toThrow(
      /overwrite the input/,
    );
  });
});
