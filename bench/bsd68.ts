/**
 * npm run bench:bsd68 -- [--select] [--minutes N] [--full] [--mask P] [--roi N] [--lr X] [--schedule S] [--no-tta]
 *                         [--algorithm n2v|pn2v] [--prior samples|gaussian] [--samples K]
 *
 * The N2V paper's natural-image protocol (../shared/data/README.md): Gaussian noise σ = 25 on the 0–255 scale,
 * float, not clipped, fixed seed; N2V trained on the noisy Train400 images (the first 396 for training with
 * flips and 90° rotations, the last 4 for validation); PSNR (peak 255) per image of the 68 noisy BSD68 test
 * images, then the mean — without and with 8-fold test-time augmentation. Last line: JSON summary.
 *
 * Every run scores the validation sets: the four held-back Train400 images (against their clean versions) and
 * Set12 (noise from its own seed). `--select` is the mode for choosing a recipe: it never reads BSD68. Choose with
 * `--select`; run without it once per final recipe, which adds BSD68 (the test set).
 *
 * Default: the time-budget recipe below (BUDGET_RECIPE) for `--minutes` of training (default 60); `--mask`,
 * `--roi`, `--lr`, `--schedule cosine|plateau` and `--no-tta` override it for experiments.
 * `--full`: the n2v reproducibility notebook's recipe (96 filters, residual, batch 128, 200 epochs × 400 steps,
 * 0.198 % masked, ROI 5×5, ReduceLROnPlateau factor 0.5) — a GPU-sized run.
 *
 * `--algorithm pn2v`: the same recipe (masking, schedule, budget) trained as PN2V with the known noise, σ = 25:
 * `--prior samples` (default) predicts `--samples` K samples (default 100) with σ as a one-Gaussian mixture,
 * `--prior gaussian` a Gaussian prior with a GaussianNoiseModel. Scored on the posterior mean (psnr, psnrTTA)
 * and the prior mean (psnrPrior, no TTA).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PN2V_SAMPLES } from '../src/config/index.js';
import { Rng } from '../src/data/index.js';
import { ArraySource } from '../src/io/index.js';
import { psnr } from '../src/metrics/index.js';
import { CAREamist, createN2VConfig, createPN2VConfig, listImageFiles, openImage } from '../src/node.js';
import { round } from './lib.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    full: { type: 'boolean', default: false },
    select: { type: 'boolean', default: false },
    // Overrides of the budget recipe, for schedule experiments (docs/benchmarks.md lists the ones measured).
    mask: { type: 'string' },
    roi: { type: 'string' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    'no-tta': { type: 'boolean', default: false },
    algorithm: { type: 'string', default: 'n2v' },
    prior: { type: 'string', default: 'samples' },
    samples: { type: 'string' },
  },
});
const SIGMA = 25;
/**
 * What the time budget trains with: the CAREamics N2V default (depth 2, 32 filters, batch norm, patch 64,
 * batch 16, Adam 1e-3, ROI 11) with two changes measured in 10-minute trials (docs/benchmarks.md): the learning
 * rate follows a cosine to zero at the end of the budget instead of ReduceLROnPlateau, whose patience a short run
 * never pays back, and 5 % of the pixels are masked instead of 0.2 %, so each step learns from 25× more pixels.
 */
const BUDGET_RECIPE = { mask: 5, roi: 11, lr: 1e-3, schedule: 'cosine' };
const data = resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'bsd');
if (!existsSync(data)) {
  console.error(`no data at ${data}: this benchmark needs the shared research data`);
  process.exit(1);
}

async function loadSet(folder: string) {
  const files = await listImageFiles(join(data, folder), 'png');
  return Promise.all(
    files.map(async (file) => {
      const { data: pixels, shape } = await (await openImage(file, { axes: 'YX' })).read();
      return { name: file, shape, clean: Float32Array.from(pixels as ArrayLike<number>) };
    }),
  );
}

/** σ = 25 Gaussian noise from a seeded generator, so every run sees the same noisy images. */
const addNoise = (clean: Float32Array, rng: Rng) => clean.map((v) => v + rng.normal(0, SIGMA));

/** Stacks same-size images into one SYX array. */
function stack(images: Float32Array[], height: number, width: number, name: string) {
  const out = new Float32Array(images.length * height * width);
  images.forEach((image, i) => {
    out.set(image, i * height * width);
  });
  return new ArraySource({ data: out, shape: [images.length, height, width] }, { name, axes: 'SYX' });
}

const trainNoise = new Rng(400);
const train = (await loadSet('Train400')).map((image) => ({
  ...image,
  noisy: addNoise(image.clean, trainNoise),
}));
const [h, w] = train[0].shape;
const trainSource = stack(
  train.slice(0, 396).map((i) => i.noisy),
  h,
  w,
  'Train400[0:396] + N(0, 25²)',
);
const valSource = stack(
  train.slice(396).map((i) => i.noisy),
  h,
  w,
  'Train400[396:400] + N(0, 25²)',
);

interface Scored {
  shape: number[];
  clean: Float32Array;
  noisy: Float32Array;
}
/** Selection scores on held-back data only; the report mode scores the 68 test images. */
async function evaluationSets(): Promise<Record<string, Scored[]>> {
  const set12Noise = new Rng(12);
  const set12 = (await loadSet('Set12')).map((image) => ({
    ...image,
    noisy: addNoise(image.clean, set12Noise),
  }));
  const validation = { 'Train400[396:400]': train.slice(396), Set12: set12 };
  if (values.select) return validation;
  const testNoise = new Rng(68);
  const bsd68 = (await loadSet('BSD68')).map((image) => ({
    ...image,
    noisy: addNoise(image.clean, testNoise),
  }));
  return { ...validation, BSD68: bsd68 };
}
const evaluation = await evaluationSets();

const full = values.full;
const minutes = full ? null : Number(values.minutes);
const batch = full ? 128 : 16;
const schedule = values.schedule ?? (full ? 'plateau' : BUDGET_RECIPE.schedule);
if (schedule !== 'plateau' && schedule !== 'cosine') {
  console.error(`--schedule: expected plateau or cosine, got ${schedule}`);
  process.exit(1);
}
const algorithm = values.algorithm;
const prior = values.prior;
if (algorithm !== 'n2v' && algorithm !== 'pn2v') {
  console.error(`--algorithm: expected n2v or pn2v, got ${algorithm}`);
  process.exit(1);
}
if (prior !== 'samples' && prior !== 'gaussian') {
  console.error(`--prior: expected samples or gaussian, got ${prior}`);
  process.exit(1);
}
const pn2v = algorithm === 'pn2v';
const samples = Number(values.samples ?? DEFAULT_PN2V_SAMPLES);
if ((!pn2v || prior === 'gaussian') && values.samples !== undefined) {
  console.error('--samples applies to --algorithm pn2v --prior samples');
  process.exit(1);
}
const recipe = {
  mask: Number(values.mask ?? (full ? 0.198 : BUDGET_RECIPE.mask)),
  roi: Number(values.roi ?? (full ? 5 : BUDGET_RECIPE.roi)),
  lr: Number(values.lr ?? BUDGET_RECIPE.lr),
  schedule,
};
const options = {
  experimentName: `bsd68${full ? '_full' : ''}${pn2v ? '_pn2v' : ''}`,
  dataType: 'array' as const,
  axes: 'SYX',
  patchSize: [64, 64],
  batchSize: batch,
  numEpochs: full ? 200 : 100000,
  seed: 25,
  roiSize: recipe.roi,
  maskedPixelPercentage: recipe.mask,
  modelParams: full ? { num_channels_init: 96, residual: true } : {},
  optimizerParams: { lr: recipe.lr },
  // cosine: CosineAnnealingLR without T_max anneals to zero at the end of the time budget.
  ...(schedule === 'cosine'
    ? { lrScheduler: 'CosineAnnealingLR' as const }
    : { lrScheduler: 'ReduceLROnPlateau' as const, lrSchedulerParams: full ? { factor: 0.5 } : {} }),
  trainerParams: full ? { limit_train_batches: 400 } : { max_time: { seconds: Math.round(minutes! * 60) } },
};
// The known noise: σ = 25 as a one-Gaussian mixture (samples prior) or a GaussianNoiseModel (Gaussian prior).
const config = pn2v
  ? createPN2VConfig({ ...options, noiseSigma: SIGMA, ...(prior === 'samples' && { numSamples: samples }) })
  : createN2VConfig(options);

const started = performance.now();
const careamist = new CAREamist(config, {
  workDir: join(import.meta.dirname, 'out', config.experiment_name),
  callbacks: {
    onEpochEnd: (r) =>
      console.error(
        `epoch ${r.epoch + 1} step ${r.step} train ${r.train_loss.toFixed(4)} val ${r.val_loss?.toFixed(4)} lr ${r.lr} ${((performance.now() - started) / 60000).toFixed(1)} min`,
      ),
  },
});
const state = await careamist.train({ trainSource: [trainSource], valSource: [valSource] });
const trainMinutes = (performance.now() - started) / 60000;

async function meanPsnr(images: readonly Scored[], tta: boolean, pn2vOutput?: 'prior'): Promise<number> {
  let total = 0;
  for (const image of images) {
    const out = await careamist.predict(
      { data: image.noisy, shape: image.shape, axes: 'YX' },
      { tta, tileSize: [256, 256], ...(pn2vOutput && { pn2vOutput }) },
    );
    total += psnr(image.clean, out.data as Float32Array, 255);
  }
  return total / images.length;
}

const scores: Record<
  string,
  { psnrNoisy: number; psnr: number; psnrTTA: number | null; psnrPrior?: number }
> = {};
for (const [set, images] of Object.entries(evaluation)) {
  scores[set] = {
    psnrNoisy: round(
      images.reduce((a, image) => a + psnr(image.clean, image.noisy, 255), 0) / images.length,
      2,
    ),
    psnr: round(await meanPsnr(images, false), 2),
    psnrTTA: values['no-tta'] ? null : round(await meanPsnr(images, true), 2),
    ...(pn2v && { psnrPrior: round(await meanPsnr(images, false, 'prior'), 2) }),
  };
}
const stepsPerEpoch =
  state.history.length > 1 ? state.history[1].step - state.history[0].step : state.globalStep;
const summary = {
  algorithm: pn2v
    ? `pn2v, known σ = ${SIGMA}, ${prior === 'samples' ? `${samples} samples (σ as a one-Gaussian mixture)` : 'Gaussian prior'}; psnr is the posterior mean`
    : 'n2v',
  mode: values.select ? 'select (validation only)' : 'report (BSD68 test set)',
  validation: { 'Train400[396:400]': scores['Train400[396:400]'], Set12: scores.Set12 },
  ...(scores.BSD68 && { testSet: 'BSD68', ...scores.BSD68 }),
  trainMinutes: round(trainMinutes, 1),
  epochs: state.epoch,
  steps: state.globalStep,
  stepsPerEpoch,
  batch,
  config: `${full ? 'full (n2v notebook recipe)' : `${minutes} min budget`}: ${recipe.mask} % masked, ROI ${recipe.roi}, Adam lr ${recipe.lr}, ${schedule === 'cosine' ? 'cosine to the end of the budget' : 'ReduceLROnPlateau'}`,
};
console.table(Object.entries(scores).map(([set, score]) => ({ set, ...score })));
console.log(JSON.stringify(summary));
