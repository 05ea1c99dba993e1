import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { psnr } from '../../src/metrics/index.js';
import { CAREamist, createN2VConfig, createPN2VConfig, loadModel } from '../../src/node.js';
import { createNoiseModel, type GaussianMixtureNoiseModel } from '../../src/noise/index.js';
import { encodeNoiseModelNpz } from '../../src/noise/npz.js';
import { addNoise, cleanImage, source } from './synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'careamics-pn2v-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SIGMA = 25;
const SIZE = 256;
const clean = cleanImage(SIZE, SIZE);
const noisy = addNoise(clean, SIGMA, 1);
const image = { data: noisy, shape: [SIZE, SIZE], axes: 'YX' };
const tiles = { tileSize: [128, 128], tileOverlap: [48, 48] };
const common = (numEpochs: number) => ({
  dataType: 'array' as const,
  axes: 'YX',
  patchSize: [32, 32],
  batchSize: 8,
  numEpochs,
  seed: 1,
  modelParams: { num_channels_init: 8 },
});

/** CAREamics' Gaussian mixture holding one Gaussian of variance σ² at every signal (the variance row is log-coefficients). */
const gaussianMixture = createNoiseModel({
  model_type: 'GaussianMixtureNoiseModel',
  weight: [
    [0, 0],
    [Math.log(SIGMA ** 2), -30],
    [0, 0],
  ],
  n_gaussian: 1,
  n_coeff: 2,
  min_signal: 0,
  max_signal: 255,
}) as GaussianMixtureNoiseModel;

const psnrOf = (out: { data: ArrayLike<number> }) => psnr(clean, out.data as Float32Array, 255);

describe('pn2v end to end (synthetic image, Gaussian noise σ = 25)', () => {
  it('samples prior with a mixture noise model: the posterior mean beats the prior mean and N2V', async () => {
    const n2v = new CAREamist(createN2VConfig({ ...common(40), experimentName: 'n2v' }));
    await n2v.train({ trainSource: [source(noisy, [SIZE, SIZE])] });
    const n2vPsnr = psnrOf(await n2v.predict(image, tiles));
    await n2v.dispose();

    const npz = join(tmp, 'gaussian.npz');
    writeFileSync(npz, encodeNoiseModelNpz(gaussianMixture));
    const pn2v = new CAREamist(
      createPN2VConfig({
        ...common(40),
        experimentName: 'pn2v',
        numSamples: 16,
        noiseModel: { model_type: 'GaussianMixtureNoiseModel', path: npz },
      }),
    );
    await pn2v.train({ trainSource: [source(noisy, [SIZE, SIZE])] });
    const mmse = psnrOf(await pn2v.predict(image, tiles));
    const prior = psnrOf(await pn2v.predict(image, { ...tiles, pn2vOutput: 'prior' }));
    await pn2v.dispose();
    // Measured (seed 1, 280 steps): N2V 25.21 dB, prior mean 25.31 dB, MMSE 25.75 dB; noisy 20.22 dB.
    expect(mmse).toBeGreaterThan(prior + 0.25);
    expect(mmse).toBeGreaterThan(n2vPsnr + 0.25);
  }, 240_000);

  it('Gaussian prior: trains, its checkpoint (noise model inside) predicts the same, resumes, and pn2vOutput is refused elsewhere', async () => {
    const workDir = join(tmp, 'gaussian');
    const config = createPN2VConfig({
      ...common(2),
      experimentName: 'gaussian',
      noiseModel: { model_type: 'GaussianNoiseModel', sigma: SIGMA },
    });
    const careamist = new CAREamist(config, { workDir });
    await careamist.train({ trainSource: [source(noisy, [SIZE, SIZE])] });
    const mmse = await careamist.predict(image, tiles);
    const prior = await careamist.predict(image, { ...tiles, pn2vOutput: 'prior' });
    expect(mmse.shape).toEqual([SIZE, SIZE]);
    expect(psnrOf(mmse)).toBeGreaterThan(psnr(clean, noisy, 255));
    expect(psnrOf(prior)).not.toBeCloseTo(psnrOf(mmse), 3);
    // The default after a prior prediction is the posterior mean again.
    expect(Array.from((await careamist.predict(image, tiles)).data)).toEqual(Array.from(mmse.data));
    expect(readFileSync(join(workDir, 'config.yaml'), 'utf8')).toMatch(
      /model_type: GaussianNoiseModel\n\s+sigma: 25/,
    );

    // The exported ONNX graph ends in the posterior: a bare .onnx predicts the same image.
    const onnxPath = join(tmp, 'pn2v.onnx');
    writeFileSync(onnxPath, careamist.exportOnnx());
    const frozen = await loadModel(onnxPath, { normalization: careamist.normalization });
    const fromOnnx = await frozen.predict({ ...image, axes: 'YX' }, tiles);
    let onnxDiff = 0;
    for (let i = 0; i < fromOnnx.data.length; i++)
      onnxDiff = Math.max(onnxDiff, Math.abs(fromOnnx.data[i] - mmse.data[i]));
    expect(onnxDiff).toBeLessThan(1e-2);
    await frozen.dispose();

    const loaded = await CAREamist.load(workDir);
    const again = await loaded.predict(image, tiles);
    let diff = 0;
    for (let i = 0; i < again.data.length; i++) diff = Math.max(diff, Math.abs(again.data[i] - mmse.data[i]));
    expect(diff).toBeLessThan(1e-3);
    const resumed = await loaded.train({ trainSource: [source(noisy, [SIZE, SIZE])] }, { resume: true });
    expect(resumed.epoch).toBe(2);
    await careamist.dispose();
    await loaded.dispose();

    const n2v = new CAREamist(createN2VConfig({ ...common(1), experimentName: 'n2v' }));
    await n2v.train({ trainSource: [source(noisy, [SIZE, SIZE])] });
    await expect(n2v.predict(image, { ...tiles, pn2vOutput: 'prior' })).rejects.toThrow(/pn2vOutput/);
    await n2v.dispose();
  }, 120_000);

  it('a mixture read from its .npz is written into the checkpoint, so the checkpoint needs no other file', async () => {
    const npz = join(tmp, 'copy.npz');
    writeFileSync(npz, encodeNoiseModelNpz(gaussianMixture));
    const careamist = new CAREamist(
      createPN2VConfig({
        ...common(1),
        experimentName: 'mixture',
        numSamples: 4,
        noiseModel: { model_type: 'GaussianMixtureNoiseModel', path: npz },
      }),
    );
    await careamist.train({ trainSource: [source(noisy, [SIZE, SIZE])] });
    const expected = await careamist.predict(image, tiles);
    rmSync(npz);
    const bytes = careamist.checkpoint();
    const loaded = await CAREamist.fromCheckpoint(bytes, { runtime: careamist.options.runtime });
    const out = await loaded.predict(image, tiles);
    expect(Array.from(out.data.slice(0, 100))).toEqual(Array.from(expected.data.slice(0, 100)));
    await careamist.dispose();
    await loaded.dispose();
  }, 60_000);
});
