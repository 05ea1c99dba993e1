/**
 * npm run bench:pn2v:diagnose -- [--image bacteria|fmd] [--run DIR] [--calibration-steps S]
 *
 * Why does a trained PN2V model's posterior mean (MMSE) gain or lose against its own prior mean on a real image
 * with ground truth? Reads the run `npm run bench:pn2v` wrote (default bench/out/pn2v_bench_<image>_pn2v: its
 * config.yaml holds the bootstrapped noise model and the normalization, checkpoints/last.safetensors the weights)
 * and separates the three suspects:
 * 1. the noise model: the noisy − average residual's std per decile of the average, against the bootstrapped
 *    model's and a model calibrated on (average, noisy) (`fitNoiseModel`, S steps); MMSE with either model;
 * 2. the observed pixel counted twice: the network sees the pixel it predicts at prediction time; a blind-spot
 *    prior (4 × 4 grid of passes, each pixel of a pass replaced by a random neighbour in the 11 × 11 ROI, as N2V
 *    masks in training) scored beside it;
 * 3. the samples' spread: the mean per-pixel std of the K samples against the prior mean's RMSE to the average
 *    (a calibrated prior has them equal), and the MMSE with the samples' deviations from the prior mean shrunk by
 *    c ∈ [0.2, 1], beside the noisy data's negative log-likelihood at each c.
 * The average only scores: point 3's sweep is an oracle diagnostic, not a recipe. Last line: JSON.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { createModel } from '../src/engine/index.js';
import { nodeRuntime } from '../src/node.js';
import {
  createNoiseModel,
  fitNoiseModel,
  likelihood,
  type NoiseModel,
  noiseModelMoments,
  relativeMinSigma,
} from '../src/noise/index.js';
import { round } from './lib.js';
import { checkImagePairs, readImagePair, score } from './microscopyPairs.js';

const { values } = parseArgs({
  options: {
    image: { type: 'string', default: 'bacteria' },
    run: { type: 'string' },
    'calibration-steps': { type: 'string', default: '1000' },
  },
});
const names = [values.image];
checkImagePairs(names);
const [name] = names as [(typeof names)[number]];
const run = resolve(values.run ?? join(import.meta.dirname, 'out', `pn2v_bench_${name}_pn2v`));
const { noisy, average } = await readImagePair(name);
const [height, width] = noisy.shape.slice(-2) as [number, number];
const planePixels = height * width;
const planes = noisy.data.length / planePixels;
const pixels = noisy.data.length;

const config = parse(readFileSync(join(run, 'config.yaml'), 'utf8'));
const algorithm = config.algorithm_config;
if (algorithm.algorithm !== 'pn2v') {
  console.error(`${run}: expected a pn2v run (algorithm ${algorithm.algorithm})`);
  process.exit(1);
}
const bootstrapped = createNoiseModel(algorithm.noise_model);
const [mean] = config.data_config.normalization.input_means as number[];
const [std] = config.data_config.normalization.input_stds as number[];
const K: number = algorithm.model.num_classes;
const runtime = nodeRuntime();
// The UNet alone (an n2v loss has no posterior in its prediction graph): its K output channels are the samples.
const network = await createModel(runtime, { architecture: algorithm.model, loss: 'n2v' });
network.loadState(new Uint8Array(readFileSync(join(run, 'checkpoints', 'last.safetensors'))));

/** The K prior samples of every pixel, sample-major (K × pixels), in raw units. */
async function priorSamples(input: Float32Array): Promise<Float32Array> {
  const samples = new Float32Array(K * pixels);
  for (let p = 0; p < planes; p++) {
    const plane = input.subarray(p * planePixels, (p + 1) * planePixels).map((v) => (v - mean!) / std!);
    const { data } = await network.predict(plane, [1, 1, height, width]);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < planePixels; i++) {
        samples[k * pixels + p * planePixels + i] = data[k * planePixels + i]! * std! + mean!;
      }
    }
  }
  return samples;
}

/** Blind-spot samples: each pixel predicted from an input where it was replaced by a random ROI neighbour. */
async function blindSpotSamples(grid = 4, roi = 11): Promise<Float32Array> {
  const blind = new Float32Array(K * pixels);
  let state = 7;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const half = roi >> 1;
  const clamp = (v: number, size: number) => Math.min(size - 1, Math.max(0, v));
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const masked = Float32Array.from(noisy.data);
      const at: number[] = [];
      for (let p = 0; p < planes; p++) {
        for (let y = gy; y < height; y += grid) {
          for (let x = gx; x < width; x += grid) {
            let dy = 0;
            let dx = 0;
            while (dy === 0 && dx === 0) {
              dy = Math.floor(random() * roi) - half;
              dx = Math.floor(random() * roi) - half;
            }
            const i = p * planePixels + y * width + x;
            masked[i] = noisy.data[p * planePixels + clamp(y + dy, height) * width + clamp(x + dx, width)]!;
            at.push(i);
          }
        }
      }
      const samples = await priorSamples(masked);
      for (const i of at) for (let k = 0; k < K; k++) blind[k * pixels + i] = samples[k * pixels + i]!;
    }
  }
  return blind;
}

function priorMean(samples: Float32Array): Float32Array {
  const out = new Float32Array(pixels);
  for (let k = 0; k < K; k++) for (let i = 0; i < pixels; i++) out[i]! += samples[k * pixels + i]! / K;
  return out;
}

/** Deviations from the prior mean multiplied by c (c = 1: the samples as they are). */
function shrink(samples: Float32Array, prior: Float32Array, c: number): Float32Array {
  if (c === 1) return samples;
  const out = new Float32Array(samples.length);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < pixels; i++)
      out[k * pixels + i] = prior[i]! + c * (samples[k * pixels + i]! - prior[i]!);
  }
  return out;
}

/** The posterior mean Σ sₖ p(y|sₖ) / Σ p(y|sₖ) and the mean of −log (1/K) Σ p(y|sₖ). */
function posterior(samples: Float32Array, model: NoiseModel): { mmse: Float32Array; nll: number } {
  const mmse = new Float32Array(pixels);
  const observation = new Float32Array(K);
  const signal = new Float32Array(K);
  let nll = 0;
  for (let i = 0; i < pixels; i++) {
    observation.fill(noisy.data[i]!);
    for (let k = 0; k < K; k++) signal[k] = samples[k * pixels + i]!;
    const p = likelihood(model, observation, signal);
    let weighted = 0;
    let total = 0;
    for (let k = 0; k < K; k++) {
      weighted += p[k]! * signal[k]!;
      total += p[k]!;
    }
    mmse[i] = weighted / total;
    nll -= Math.log(total / K);
  }
  return { mmse, nll: nll / pixels };
}

function spread(samples: Float32Array, prior: Float32Array) {
  let variance = 0;
  let squaredError = 0;
  for (let i = 0; i < pixels; i++) {
    let v = 0;
    for (let k = 0; k < K; k++) v += (samples[k * pixels + i]! - prior[i]!) ** 2;
    variance += v / K;
    squaredError += (prior[i]! - average.data[i]!) ** 2;
  }
  return {
    sampleStd: round(Math.sqrt(variance / pixels), 1),
    priorRmse: round(Math.sqrt(squaredError / pixels), 1),
  };
}

// 1. The noise models against the residual, per decile of the average.
const started = performance.now();
const calibrated = await fitNoiseModel(average, noisy, {
  runtime,
  nGaussian: bootstrapped.model_type === 'GaussianMixtureNoiseModel' ? bootstrapped.n_gaussian : 3,
  nCoeff: 2,
  // The floor a bootstrap uses (1e-4 × the noisy data's variance).
  minSigma: relativeMinSigma(noisy.data),
  epochs: Number(values['calibration-steps']),
  seed: 1,
}).then(
  (fit) => fit.model,
  (error: Error) => {
    console.error(`calibrating a noise model on ${name}'s (average, noisy) pairs: ${error.message}`);
    process.exit(1);
  },
);
const calibrationSeconds = round((performance.now() - started) / 1000, 1);
const sorted = Float32Array.from(average.data).sort();
const deciles = [];
for (let d = 0; d < 10; d++) {
  const low = sorted[Math.floor((d / 10) * (pixels - 1))]!;
  const high = sorted[Math.floor(((d + 1) / 10) * (pixels - 1))]!;
  let sum = 0;
  let sumSquares = 0;
  let signal = 0;
  let count = 0;
  for (let i = 0; i < pixels; i++) {
    const a = average.data[i]!;
    if (a < low || a > high) continue;
    const r = noisy.data[i]! - a;
    sum += r;
    sumSquares += r * r;
    signal += a;
    count++;
  }
  const residualMean = sum / count;
  const at = [signal / count];
  deciles.push({
    decile: d + 1,
    average: `${round(low, 1)}–${round(high, 1)}`,
    residualStd: round(Math.sqrt(sumSquares / count - residualMean ** 2), 2),
    bootstrappedStd: round(noiseModelMoments(bootstrapped, at).std[0]!, 2),
    calibratedStd: round(noiseModelMoments(calibrated, at).std[0]!, 2),
    residualMean: round(residualMean, 2),
  });
}
console.table(deciles);

// 2 and 3. Sighted and blind-spot priors, both noise models, the samples' spread and the shrink sweep.
const priors = {
  sighted: await priorSamples(noisy.data as Float32Array),
  blindSpot: await blindSpotSamples(),
};
const rows: Record<string, unknown>[] = [];
const summary: Record<string, unknown> = {};
for (const [which, samples] of Object.entries(priors)) {
  const prior = priorMean(samples);
  const row = {
    prior: which,
    priorMean: score(average, prior).psnr,
    mmseBootstrapped: score(average, posterior(samples, bootstrapped).mmse).psnr,
    mmseCalibrated: score(average, posterior(samples, calibrated).mmse).psnr,
    ...spread(samples, prior),
  };
  rows.push(row);
  const sweep = [];
  for (const c of [1, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2]) {
    const { mmse, nll } = posterior(shrink(samples, prior, c), bootstrapped);
    sweep.push({ c, mmse: score(average, mmse).psnr, nll: round(nll, 5) });
  }
  summary[which] = { ...row, shrinkSweep: sweep };
}
console.table(rows);
for (const [which, s] of Object.entries(summary)) {
  console.log(`${which}: MMSE with the samples' deviations × c (bootstrapped noise model)`);
  console.table((s as { shrinkSweep: unknown[] }).shrinkSweep);
}
await network.dispose();
console.log(
  JSON.stringify({
    image: name,
    run,
    K,
    noisy: score(average, noisy.data),
    calibrationSeconds,
    deciles,
    ...summary,
  }),
);
