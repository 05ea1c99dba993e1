/**
 * npm run bench:pn2v -- [--minutes T] [--image fmd|bacteria] [--samples K] [--n-gaussian N] [--fit-steps S]
 *
 * N2V vs PN2V on real microscopy with ground truth (../shared/data/microscopy), the same training budget each:
 * - FMD: 3 noisy 512² frames (fmd_3page_raw_float32.tif) and their averages (fmd_3page_gt_float32.tif). Trained as
 *   SYX, one network and one noise model for the three: the frames come from one microscope and camera, and a
 *   pn2v configuration holds one noise model (CAREamics' per-channel MultiChannelNoiseModel is not supported).
 * - bacteria: one noisy 512² 16-bit frame (bacteria_noisy_16bit.png) and its average (bacteria_target_16bit.png).
 *
 * For each image: N2V trained for T minutes on the noisy data; its prediction and the noisy data bootstrap a
 * Gaussian mixture noise model (CAREamics' PN2V recipe: `bootstrapNoiseModel`, N Gaussians, 2 coefficients);
 * PN2V (K samples) trained for T minutes with it; both scored by PSNR and SSIM against the average, with the
 * average's data range (max − min) — the posterior mean (MMSE) and the prior mean for PN2V. The noisy data alone
 * trains the networks and the noise model; the average only scores. Both train with the time-budget recipe of
 * bench/bsd68.ts (5 % masked, ROI 11, Adam 1e-3 with a cosine to the end of the budget, patch 64, batch 16).
 * Last line: JSON {image: {n2v, pn2vMmse, pn2vPrior, gainDb, …}}, gainDb = PN2V MMSE − N2V PSNR.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PN2V_SAMPLES } from '../src/config/index.js';
import {
  ArraySource,
  type AxesArray,
  bootstrapNoiseModel,
  CAREamist,
  type Configuration,
  createN2VConfig,
  createPN2VConfig,
  nodeRuntime,
} from '../src/node.js';
import { round } from './lib.js';
import { checkImagePairs, IMAGE_PAIRS, readImagePair, score } from './microscopyPairs.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    image: { type: 'string', multiple: true },
    samples: { type: 'string', default: String(DEFAULT_PN2V_SAMPLES) },
    'n-gaussian': { type: 'string', default: '3' },
    'fit-steps': { type: 'string', default: '2000' },
  },
});
const minutes = Number(values.minutes);
const samples = Number(values.samples);
const root = resolve(import.meta.dirname, '..');
const names = (values.image ?? Object.keys(IMAGE_PAIRS)) as string[];
checkImagePairs(names);

/** The bsd68 time-budget recipe, for T minutes. */
const recipe = (name: string, axes: string) => ({
  experimentName: name,
  dataType: 'array' as const,
  axes,
  patchSize: [64, 64],
  batchSize: 16,
  numEpochs: 100000,
  seed: 1,
  roiSize: 11,
  maskedPixelPercentage: 5,
  optimizerParams: { lr: 1e-3 },
  lrScheduler: 'CosineAnnealingLR' as const,
  trainerParams: { max_time: { seconds: Math.round(minutes * 60) } },
});

async function train(config: Configuration, noisy: AxesArray) {
  const careamist = new CAREamist(config, {
    workDir: join(root, 'bench', 'out', config.experiment_name),
    callbacks: {
      onEpochEnd: (r) =>
        console.error(
          `${config.experiment_name} epoch ${r.epoch + 1} step ${r.step} train ${r.train_loss.toFixed(4)}`,
        ),
    },
  });
  const started = performance.now();
  const source = new ArraySource(
    { data: noisy.data, shape: noisy.shape },
    { name: config.experiment_name, axes: noisy.axes },
  );
  const state = await careamist.train({ trainSource: [source] });
  return { careamist, steps: state.globalStep, minutes: round((performance.now() - started) / 60000, 2) };
}

const runtime = nodeRuntime();
const results: Record<string, unknown> = {};
const rows: Record<string, unknown>[] = [];
for (const name of names) {
  const { axes } = IMAGE_PAIRS[name];
  const { noisy, average } = await readImagePair(name);
  const noisyScore = score(average, noisy.data);

  const n2v = await train(createN2VConfig(recipe(`pn2v_bench_${name}_n2v`, axes)), noisy);
  const fitStarted = performance.now();
  // bootstrapNoiseModel predicts the noisy data with N2V: its `signal` is the N2V prediction scored below.
  const fit = await bootstrapNoiseModel(n2v.careamist, [noisy], {
    runtime,
    nGaussian: Number(values['n-gaussian']),
    nCoeff: 2,
    minSigma: 1,
    epochs: Number(values['fit-steps']),
    seed: 1,
  });
  const fitSeconds = round((performance.now() - fitStarted) / 1000, 1);
  for (const warning of fit.warnings) console.error(`${name} noise model: ${warning}`);
  const n2vScore = score(average, fit.signal);

  const pn2vConfig = createPN2VConfig({
    ...recipe(`pn2v_bench_${name}_pn2v`, axes),
    noiseModel: fit.model,
    numSamples: samples,
  });
  const pn2v = await train(pn2vConfig, noisy);
  const mmse = score(average, (await pn2v.careamist.predict(noisy, { pn2vOutput: 'mmse' })).data);
  const prior = score(average, (await pn2v.careamist.predict(noisy, { pn2vOutput: 'prior' })).data);

  const gainDb = round(mmse.psnr - n2vScore.psnr, 2);
  results[name] = {
    noisy: noisyScore,
    n2v: n2vScore,
    pn2vMmse: mmse,
    pn2vPrior: prior,
    gainDb,
    minutes,
    trainMinutes: { n2v: n2v.minutes, pn2v: pn2v.minutes },
    steps: { n2v: n2v.steps, pn2v: pn2v.steps },
    noiseModel: {
      nGaussian: fit.model.n_gaussian,
      nCoeff: fit.model.n_coeff,
      fitSteps: fit.losses.length,
      finalLoss: round(fit.losses[fit.losses.length - 1]!, 4),
      pairs: fit.pairs,
      fitSeconds,
    },
    samples,
  };
  for (const [method, s] of Object.entries({
    noisy: noisyScore,
    n2v: n2vScore,
    'pn2v mmse': mmse,
    'pn2v prior': prior,
  }))
    rows.push({ image: name, method, ...s });
}
console.table(rows);
console.log(JSON.stringify(results));
