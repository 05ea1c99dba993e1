/**
 * CARE and N2N trained on real FMD pairs keep the intensities. Issue 16 reported CARE predictions 1.16× too
 * bright. Here a model is fitted to a noisy confocal crop and its target, and the least-squares scale a of
 * target ≈ a·prediction + b is checked, with the prediction closer to the clean average than the noisy input.
 * A target normalized with the input's statistics, or a prediction denormalized with them, scales the output by
 * the ratio of the two standard deviations, 1.26 on this crop (checked below), and fails.
 * Measured (120 epochs of one 128² crop): CARE a = 0.973 (early stopping ends it; the same at 400 epochs), N2N
 * a = 0.913 (0.877 at 400 epochs: one noisy pair is over-fitted, which spreads the prediction). A short fit is
 * not exact in PyTorch either (its CARE scale swung 0.98–1.10 with the seed in issue 16’s side-by-side run), hence
 * bounds of 5 % (CARE) and 15 % (N2N) rather than 2 %.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCareConfig, createN2NConfig } from '../../src/config/index.js';
import { Rng } from '../../src/data/index.js';
import { readAll } from '../../src/io/memory.js';
import { openImage } from '../../src/io/node/index.js';
import { CAREamist } from '../../src/node.js';
import { HAS_SHARED_DATA, MICROSCOPY } from '../io/helpers.js';
import { source } from './synthetic.js';

const SIDE = 512;
const CROP = 128;
const tmp = mkdtempSync(join(tmpdir(), 'careamics-intensity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A CROP² window of page 0 (its centre holds cells, not background). */
async function crop(file: string): Promise<Float32Array> {
  const { data } = await readAll(await openImage(`${MICROSCOPY}${file}`));
  const out = new Float32Array(CROP * CROP);
  const start = (SIDE - CROP) / 2;
  for (let y = 0; y < CROP; y++) {
    out.set(
      data.subarray((start + y) * SIDE + start, (start + y) * SIDE + start + CROP) as Float32Array,
      y * CROP,
    );
  }
  return out;
}

const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
const std = (a: Float32Array) => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
};

/** The least-squares scale a of target ≈ a·prediction + b. */
function fittedScale(prediction: Float32Array, target: Float32Array): number {
  const [mp, mt] = [mean(prediction), mean(target)];
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < prediction.length; i++) {
    covariance += (prediction[i] - mp) * (target[i] - mt);
    variance += (prediction[i] - mp) ** 2;
  }
  return covariance / variance;
}

const mse = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length;

async function fitAndPredict(algorithm: 'care' | 'n2n', noisy: Float32Array, target: Float32Array) {
  const options = {
    experimentName: `intensity-${algorithm}`,
    dataType: 'array' as const,
    axes: 'YX',
    patchSize: [64, 64],
    batchSize: 4,
    numEpochs: 120,
    augmentations: [],
    modelParams: { num_channels_init: 16 },
    optimizerParams: { lr: 2e-3 },
    seed: 7,
  };
  const config = algorithm === 'care' ? createCareConfig(options) : createN2NConfig(options);
  const careamist = new CAREamist(config, { workDir: join(tmp, algorithm), onWarning: () => {} });
  const pair = { trainSource: [source(noisy, [CROP, CROP])], trainTarget: [source(target, [CROP, CROP])] };
  await careamist.train({ ...pair, valSource: pair.trainSource, valTarget: pair.trainTarget });
  const image = { data: noisy, shape: [CROP, CROP], axes: 'YX' };
  const { data } = await careamist.predict(image, { tileSize: [64, 64], tileOverlap: [16, 16] });
  await careamist.dispose();
  return data as Float32Array;
}

describe.skipIf(!HAS_SHARED_DATA)(
  'intensities of CARE and N2N trained on real pairs (FMD confocal)',
  async () => {
    const noisy = HAS_SHARED_DATA ? await crop('fmd_3page_raw_float32.tif') : new Float32Array();
    const average = HAS_SHARED_DATA ? await crop('fmd_3page_gt_float32.tif') : new Float32Array();

    it('the input and target statistics differ enough that mixing them up would show', () => {
      expect(std(noisy) / std(average)).toBeGreaterThan(1.2);
    });

    it('CARE (noisy → 50-frame average) predicts its training crop at the target scale', async () => {
      const prediction = await fitAndPredict('care', noisy, average);
      expect(Math.abs(fittedScale(prediction, average) - 1)).toBeLessThan(0.05);
      expect(mse(prediction, average)).toBeLessThan(mse(noisy, average) / 2);
    }, 120_000);

    it('N2N (noisy → another noisy realization) predicts at the target scale', async () => {
      // A second realization of the same scene: the average plus the crop's own residual noise, shuffled.
      const rng = new Rng(11);
      const residual = noisy.map((v, i) => v - average[i]);
      for (let i = residual.length - 1; i > 0; i--) {
        const j = Math.floor(rng.random() * (i + 1));
        [residual[i], residual[j]] = [residual[j], residual[i]];
      }
      const second = average.map((v, i) => v + residual[i]);
      const prediction = await fitAndPredict('n2n', noisy, second);
      expect(Math.abs(fittedScale(prediction, second) - 1)).toBeLessThan(0.15);
      expect(mse(prediction, average)).toBeLessThan(mse(noisy, average));
    }, 120_000);
  },
);
