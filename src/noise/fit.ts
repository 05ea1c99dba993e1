/**
 * Fitting a Gaussian mixture noise model to calibration data by maximum likelihood, as CAREamics'
 * `GaussianMixtureNoiseModel.fit` does (Adam, lr 0.1, batches of 250 000 signal–observation pairs, 2000 steps).
 *
 * The step runs as an ONNX training graph of our engine: the log-likelihood of `graph.ts` (the very definition
 * PN2V trains with), its gradient by `grad()`, and the Adam update of `src/models/optimizers` in one graph, the
 * weights and Adam's moments fed back each step. A hand-written JS gradient would be a second definition of the
 * model to keep in sync; the graph is one ONNX Runtime call per step over 250 000 pixels.
 */

import { type GaussianMixtureNMConfig, parseNoiseModelConfig } from '../config/index.js';
import { Rng } from '../data/index.js';
import { createSession, type Runtime, runSession } from '../engine/index.js';
import { grad, input, mul, reduceMean, reshape, toOnnx } from '../graph/index.js';
import { optimizerSlots, optimizerUpdate } from '../models/index.js';
import { NoiseModelError } from './errors.js';
import { type MixtureSettings, mixtureLogLikelihood } from './graph.js';
import {
  checkSignalRange,
  createNoiseModel,
  type GaussianMixtureNoiseModel,
  gaussianComponents,
} from './model.js';

/** A stack of images: `shape[0]` images of `data.length / shape[0]` pixels each. */
export interface ImageStack {
  data: ArrayLike<number>;
  shape: readonly number[];
}

export interface PairOptions {
  /** Percentile of the signal below which pairs are dropped (CAREamics' `lower_clip`, default 0). */
  lowerClip?: number;
  /** Percentile of the signal above which pairs are dropped (CAREamics' `upper_clip`, default 100). */
  upperClip?: number;
}

/** Signal–observation pixel pairs, column by column. */
export interface SignalObservationPairs {
  signal: Float32Array;
  observation: Float32Array;
}

/** numpy's `percentile` (linear interpolation) of sorted values. */
function percentile(sorted: Float64Array | Float32Array, q: number): number {
  const position = (q / 100) * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/**
 * CAREamics' `get_signal_observation_pairs`: observation image i pairs with signal image i // (N / S), so S clean
 * images can each stand for N/S noisy repeats; pairs whose signal is not strictly between the two percentiles
 * are dropped (so with the defaults 0 and 100 the extreme signal values are dropped too, as in CAREamics).
 */
export function signalObservationPairs(
  signal: ImageStack,
  observation: ImageStack,
  options: PairOptions = {},
): SignalObservationPairs {
  const nSignal = signal.shape[0] ?? 1;
  const nObservation = observation.shape[0] ?? 1;
  const pixels = observation.data.length / nObservation;
  if (signal.data.length / nSignal !== pixels || nObservation % nSignal !== 0) {
    throw new NoiseModelError(
      'BadCalibrationData',
      'fit',
      `observation [${observation.shape.join(', ')}] does not match signal [${signal.shape.join(', ')}]: ` +
        'each signal image must stand for a whole number of observation images of its size',
    );
  }
  const sorted = Float64Array.from(signal.data).sort();
  const lower = percentile(sorted, options.lowerClip ?? 0);
  const upper = percentile(sorted, options.upperClip ?? 100);
  const repeats = nObservation / nSignal;
  const kept: number[] = [];
  for (let i = 0; i < nObservation; i++) {
    const base = Math.floor(i / repeats) * pixels;
    for (let p = 0; p < pixels; p++) {
      const s = signal.data[base + p]!;
      if (s > lower && s < upper) kept.push(i * pixels + p, base + p);
    }
  }
  const count = kept.length / 2;
  const pairs = { signal: new Float32Array(count), observation: new Float32Array(count) };
  for (let j = 0; j < count; j++) {
    pairs.observation[j] = observation.data[kept[2 * j]!]!;
    pairs.signal[j] = signal.data[kept[2 * j + 1]!]!;
  }
  return pairs;
}

export interface FitOptions extends PairOptions {
  /** ONNX Runtime to run the fitting graph on (`nodeRuntime()` in Node). */
  runtime: Runtime;
  nGaussian?: number;
  nCoeff?: number;
  /** Signal range the polynomials are scaled by; default the range of the paired signal. */
  minSignal?: number;
  maxSignal?: number;
  /** Variance floor (CAREamics' `min_sigma`, default 125). */
  minSigma?: number;
  /** Adam's learning rate (CAREamics: 0.1). */
  learningRate?: number;
  /** Pairs per step (CAREamics: 250 000; all pairs when there are fewer). */
  batchSize?: number;
  /** Steps (CAREamics' `n_epochs`, one batch each: 2000). */
  epochs?: number;
  seed?: number;
  /** Called after each step with the loss (−mean log-likelihood). */
  onStep?: (epoch: number, loss: number) => void;
}

export interface FitResult {
  model: GaussianMixtureNoiseModel;
  /** −mean log p per step. */
  losses: number[];
  /** How many signal–observation pairs the fit used. */
  pairs: number;
  /** Problems that leave a usable but doubtful model (e.g. `min_sigma` flooring the variance). */
  warnings: string[];
}

function shuffle(pairs: SignalObservationPairs, rng: Rng): void {
  const { signal, observation } = pairs;
  for (let i = signal.length - 1; i > 0; i--) {
    const j = rng.integer(0, i + 1);
    [signal[i], signal[j]] = [signal[j]!, signal[i]!];
    [observation[i], observation[j]] = [observation[j]!, observation[i]!];
  }
}

/** CAREamics' `_initialize_weights`: standard normal, with the variance's linear term log(max − min) (Poisson-like). */
function initialWeights(settings: MixtureSettings, rng: Rng): Float32Array {
  const { n_gaussian: k, n_coeff: n } = settings;
  const weight = Float32Array.from({ length: 3 * k * n }, () => rng.normal());
  for (let g = k; g < 2 * k; g++) weight[g * n + 1] = Math.log(settings.max_signal - settings.min_signal);
  return weight;
}

/** The training step graph: −mean log p over a batch, its gradient, Adam; the weight flat [3k·n]. */
function fittingGraph(settings: MixtureSettings, batch: number): Uint8Array {
  const size = 3 * settings.n_gaussian * settings.n_coeff;
  const observation = input('observation', [batch]);
  const signal = input('signal', [batch]);
  const weight = input('weight', [size]);
  const logP = mixtureLogLikelihood(
    observation,
    signal,
    reshape(weight, [3 * settings.n_gaussian, settings.n_coeff]),
    settings,
  );
  const loss = mul(reduceMean(logP, [0], false), -1);
  const [gradient] = grad(loss, [weight]);
  const slots = optimizerSlots('Adam').map((name) => input(name, [size]));
  const lr = input('lr', []);
  const step = input('step', []);
  const update = optimizerUpdate({ name: 'Adam' }, weight, gradient!, slots, lr, step);
  return toOnnx({
    name: 'careamics_noise_model_fit',
    inputs: [observation, signal, weight, ...slots, lr, step],
    outputs: {
      loss,
      weight_out: update.params,
      exp_avg_out: update.slots[0]!,
      exp_avg_sq_out: update.slots[1]!,
    },
  });
}

/**
 * Fits a Gaussian mixture noise model to calibration data: `signal` the clean images (e.g. the average of many
 * noisy repeats), `observation` the noisy images (a multiple of the signal's count, see `signalObservationPairs`).
 */
export async function fitNoiseModel(
  signal: ImageStack,
  observation: ImageStack,
  options: FitOptions,
): Promise<FitResult> {
  const pairs = signalObservationPairs(signal, observation, options);
  const count = pairs.signal.length;
  if (count < 2) {
    throw new NoiseModelError(
      'BadCalibrationData',
      'fit',
      `${count} signal–observation pairs after clipping; need at least 2`,
    );
  }
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const s of pairs.signal) {
    low = Math.min(low, s);
    high = Math.max(high, s);
  }
  if (options.minSignal === undefined && low < 0) {
    // CAREamics' GaussianMixtureNMConfig requires min_signal ≥ 0; say why instead of naming a field nobody set.
    throw new NoiseModelError(
      'BadCalibrationData',
      'fit',
      `the signal goes down to ${low.toPrecision(4)}, but a noise model's min_signal must be ≥ 0 (CAREamics): ` +
        'add an offset to the images, or clip the low signal (lowerClip)',
    );
  }
  const settings = parseNoiseModelConfig({
    model_type: 'GaussianMixtureNoiseModel',
    n_gaussian: options.nGaussian ?? 1,
    n_coeff: options.nCoeff ?? 2,
    min_signal: options.minSignal ?? low,
    max_signal: options.maxSignal ?? high,
    min_sigma: options.minSigma ?? 125,
  }) as GaussianMixtureNMConfig;
  const fit = await runFit(pairs, settings, options);
  const rangeWarning = checkSignalRange(fit.model, { min: low, max: high }, { source: 'fit' });
  return {
    ...fit,
    pairs: count,
    warnings: [...(rangeWarning ? [rangeWarning] : []), ...flooredVarianceWarning(fit.model)],
  };
}

/**
 * A variance floor scaled to the data, (1 % of the observation's standard deviation)², for data whose units are not
 * a 16-bit camera's (CAREamics' 125 suits those). The floor matters for fitting: the variance is
 * max(polynomial, min_sigma), whose gradient is zero below the floor, so a fit whose initial variance lies under
 * the floor everywhere (a narrow signal range, as a bootstrapped prediction often has) never moves.
 */
export function relativeMinSigma(observation: ArrayLike<number>): number {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < observation.length; i++) {
    sum += observation[i]!;
    sumSq += observation[i]! ** 2;
  }
  const n = Math.max(observation.length, 1);
  const variance = Math.max(sumSq / n - (sum / n) ** 2, 0);
  return Math.max(1e-4 * variance, Number.MIN_VALUE);
}

/**
 * CAREamics' `min_sigma` (a variance floor, default 125, meant for 16-bit cameras) can exceed the noise of 8-bit or
 * photon-counting data; the fit then cannot reach the data's variance. Says so when the floor holds over most of
 * the signal range.
 */
function flooredVarianceWarning(model: GaussianMixtureNoiseModel): string[] {
  const grid = Array.from(
    { length: 65 },
    (_, i) => model.min_signal + ((model.max_signal - model.min_signal) * i) / 64,
  );
  const floored = grid.filter((s) =>
    gaussianComponents(model, s).stds.every((d) => d * d <= model.min_sigma * (1 + 1e-6)),
  );
  if (floored.length <= grid.length / 2) return [];
  return [
    `min_sigma (${model.min_sigma}, a variance) floors the fitted variance over ${Math.round((100 * floored.length) / grid.length)} % ` +
      'of the signal range: the noise is weaker than that floor; fit again with a lower min_sigma',
  ];
}

/** Adam on the fitting graph, batches drawn as CAREamics draws them (reshuffled when a batch would run over). */
async function runFit(
  pairs: SignalObservationPairs,
  settings: GaussianMixtureNMConfig,
  options: FitOptions,
): Promise<Omit<FitResult, 'pairs' | 'warnings'>> {
  const rng = new Rng(options.seed ?? 0);
  shuffle(pairs, rng);
  const count = pairs.signal.length;
  const batch = Math.min(options.batchSize ?? 250_000, count);
  const session = await createSession(
    options.runtime,
    fittingGraph(settings, batch),
    'noise model fitting graph',
  );
  const size = 3 * settings.n_gaussian * settings.n_coeff;
  let weight: Float32Array = initialWeights(settings, rng);
  let expAvg: Float32Array = new Float32Array(size);
  let expAvgSq: Float32Array = new Float32Array(size);
  const lr = Float32Array.of(options.learningRate ?? 0.1);
  const losses: number[] = [];
  const epochs = options.epochs ?? 2000;
  let counter = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      if ((counter + 1) * batch > count) {
        counter = 0;
        shuffle(pairs, rng);
      }
      const window = [counter * batch, (counter + 1) * batch] as const;
      const out = await runSession(options.runtime, session, {
        observation: { data: pairs.observation.subarray(...window), dims: [batch] },
        signal: { data: pairs.signal.subarray(...window), dims: [batch] },
        weight: { data: weight, dims: [size] },
        exp_avg: { data: expAvg, dims: [size] },
        exp_avg_sq: { data: expAvgSq, dims: [size] },
        lr: { data: lr, dims: [] },
        step: { data: Float32Array.of(epoch + 1), dims: [] },
      });
      const loss = out.loss!.data[0]!;
      weight = out.weight_out!.data;
      expAvg = out.exp_avg_out!.data;
      expAvgSq = out.exp_avg_sq_out!.data;
      if (!Number.isFinite(loss) || !weight.every(Number.isFinite)) {
        throw new NoiseModelError(
          'FitDiverged',
          'fit',
          `the weights became NaN or infinite at epoch ${epoch}; lower the learning rate or raise min_sigma`,
        );
      }
      losses.push(loss);
      options.onStep?.(epoch, loss);
      counter++;
    }
  } finally {
    await session.release();
  }
  const n = settings.n_coeff;
  const rows = Array.from({ length: 3 * settings.n_gaussian }, (_, r) =>
    Array.from(weight.subarray(r * n, (r + 1) * n)),
  );
  const model = createNoiseModel({ ...settings, weight: rows }) as GaussianMixtureNoiseModel;
  return { model, losses };
}
