/**
 * `careamics noise-model fit|bootstrap`: a noise model in CAREamics' `.npz`, with `nm.png` beside it (the model
 * against the data's own noise curve). `fit` takes calibration data (noisy images and their clean average),
 * `bootstrap` a trained N2V model whose prediction stands in for the clean signal.
 */
import { Command, Option } from 'commander';
import {
  type AxesArray,
  bootstrapGaussianNoiseModel,
  bootstrapNoiseModel,
  type Device,
  type FitOptions,
  fitNoiseModel,
  gaussianNoiseModel,
  gaussianSigmaFromNoisy,
  gaussianSigmaFromPairs,
  loadModel,
  type NoiseModel,
  openImage,
  type Runtime,
  type SignalObservationPairs,
  saveNoiseModel,
  signalObservationPairs,
  writeFileAtomic,
} from '../node.js';
import { CliError, UsageError } from './errors.js';
import { noiseModelChartPng } from './noiseModelChart.js';
import {
  axesOption,
  type CliContext,
  deviceOption,
  deviceRuntime,
  exists,
  finiteNumber,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  requireExisting,
} from './shared.js';

type ModelKind = 'gmm' | 'gaussian';

interface FitCliOptions {
  output: string;
  model: ModelKind;
  nGaussian: number;
  nCoeff: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Undefined: 125 (CAREamics) for fit, relative to the data for bootstrap. */
  minSigma?: number;
  minSignal?: number;
  maxSignal?: number;
  lowerClip: number;
  upperClip: number;
  seed: number;
  axes?: string;
  force?: boolean;
  device: Device;
}

/** Options both subcommands share: the model kind, CAREamics' fitting settings, output and device. */
function withFitOptions(command: Command): Command {
  return command
    .requiredOption('-o, --output <npz>', 'the noise model to write (.npz); the plot goes beside it (.png)')
    .addOption(
      new Option('--model <kind>', 'gmm (CAREamics Gaussian mixture) or gaussian (one sigma)')
        .choices(['gmm', 'gaussian'])
        .default('gmm'),
    )
    .option('--n-gaussian <n>', 'Gaussians in the mixture', positiveInt, 1)
    .option(
      '--n-coeff <n>',
      'polynomial coefficients per parameter (2 = linear in the signal)',
      positiveInt,
      2,
    )
    .option('--epochs <n>', 'Adam steps, one batch each', positiveInt, 2000)
    .option('--batch-size <n>', 'signal–observation pairs per step', positiveInt, 250_000)
    .option('--learning-rate <lr>', "Adam's learning rate", positiveNumber, 0.1)
    .option(
      '--min-sigma <var>',
      'floor of each Gaussian variance (CAREamics min_sigma); default 125 for fit (lower it for 8-bit data), 1e-4 × the noisy data variance for bootstrap',
      finiteNumber,
    )
    .option('--min-signal <v>', 'lower end of the signal range (default: the data’s)', finiteNumber)
    .option('--max-signal <v>', 'upper end of the signal range (default: the data’s)', finiteNumber)
    .option('--lower-clip <percentile>', 'drop pairs whose signal is below this percentile', finiteNumber, 0)
    .option(
      '--upper-clip <percentile>',
      'drop pairs whose signal is above this percentile',
      finiteNumber,
      100,
    )
    .option('--seed <n>', 'seed of the initial weights and the shuffling', nonNegativeInt, 0)
    .option('--axes <axes>', 'axes of the images (default: guessed from each file)', axesOption)
    .option('--force', 'overwrite an existing noise model')
    .addOption(deviceOption());
}

async function checkOutput(o: FitCliOptions): Promise<void> {
  if (!o.output.toLowerCase().endsWith('.npz'))
    throw new UsageError(`-o ${o.output}: a noise model ends in .npz`);
  if (o.model === 'gmm' && o.nCoeff < 2) throw new UsageError('--n-coeff must be at least 2');
  for (const [name, v] of [
    ['--lower-clip', o.lowerClip],
    ['--upper-clip', o.upperClip],
  ] as const) {
    if (v < 0 || v > 100) throw new UsageError(`${name} must be a percentile between 0 and 100, got ${v}`);
  }
  if (o.lowerClip >= o.upperClip) throw new UsageError('--lower-clip must be below --upper-clip');
  if (!o.force && (await exists(o.output))) {
    throw new CliError(`${o.output}: already exists; pass --force to overwrite it`);
  }
}

function fitOptions(o: FitCliOptions, runtime: Runtime, ctx: CliContext): FitOptions {
  const every = Math.max(1, Math.round(o.epochs / 10));
  return {
    runtime,
    nGaussian: o.nGaussian,
    nCoeff: o.nCoeff,
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    minSigma: o.minSigma,
    minSignal: o.minSignal,
    maxSignal: o.maxSignal,
    lowerClip: o.lowerClip,
    upperClip: o.upperClip,
    seed: o.seed,
    onStep: (epoch, loss) => {
      if ((epoch + 1) % every === 0)
        ctx.io.stderr.write(`epoch ${epoch + 1}/${o.epochs}  −log p ${loss.toFixed(4)}\n`);
    },
  };
}

/** A whole image in memory with its axes. */
async function readImage(path: string, axes: string | undefined): Promise<AxesArray> {
  const source = await openImage(path, axes ? { axes } : {});
  const data = await source.read({ start: source.shape.map(() => 0), stop: [...source.shape] });
  return { data: data.data, shape: [...source.shape], axes: source.axes };
}

/** Every YX plane of an image as one image of a stack (CAREamics pairs signal and observation planes). */
function planes(image: AxesArray, path: string) {
  if (image.shape.length < 2) throw new CliError(`${path}: needs at least Y and X axes, got ${image.axes}`);
  const planeSize = image.shape.at(-1)! * image.shape.at(-2)!;
  return { data: image.data as ArrayLike<number>, shape: [image.data.length / planeSize, planeSize] };
}

/** Writes the model and its plot; reports what was fitted on stdout. */
async function writeResult(
  ctx: CliContext,
  o: FitCliOptions,
  model: NoiseModel,
  pairs: SignalObservationPairs,
  summary: string,
): Promise<void> {
  const plot = o.output.replace(/\.npz$/i, '.png');
  const title = `${model.model_type} fitted on ${pairs.signal.length} pairs`;
  const png = await noiseModelChartPng(model, pairs, title);
  await saveNoiseModel(o.output, model);
  await writeFileAtomic(plot, [png]);
  const what =
    model.model_type === 'GaussianNoiseModel'
      ? `GaussianNoiseModel, sigma ${model.sigma.toPrecision(4)}`
      : `GaussianMixtureNoiseModel, ${model.n_gaussian} Gaussian(s), ${model.n_coeff} coefficients, signal ${model.min_signal}–${model.max_signal}`;
  ctx.io.stdout.write(`wrote ${o.output} (${what}; ${summary}) and ${plot}\n`);
}

const lossSummary = (losses: readonly number[]) => `final −log p ${losses.at(-1)?.toFixed(4) ?? '?'}`;

function fitCommand(ctx: CliContext): Command {
  return withFitOptions(
    new Command('fit')
      .description('fit a noise model to calibration data: noisy images and their clean (averaged) signal')
      .requiredOption('--observation <image>', 'noisy images (N planes)')
      .option(
        '--signal <image>',
        'clean images (N/k planes, each standing for k noisy ones); optional for --model gaussian',
      ),
  ).action(async (o: FitCliOptions & { observation: string; signal?: string }) => {
    await checkOutput(o);
    if (o.signal === undefined && o.model === 'gmm') {
      throw new UsageError(
        '--signal is required to fit a gmm (only --model gaussian can estimate from noisy images alone)',
      );
    }
    await requireExisting(o.observation, o.signal);
    const runtime = o.model === 'gmm' ? await deviceRuntime(ctx, o.device) : undefined;
    const observationImage = await readImage(o.observation, o.axes);
    const observation = planes(observationImage, o.observation);
    if (o.signal === undefined) {
      // No clean data: sigma from the noisy images' Laplacian residual (see gaussianSigmaFromNoisy).
      const sigma = gaussianSigmaFromNoisy({ data: observationImage.data, shape: observationImage.shape });
      const model = gaussianNoiseModel(sigma);
      const pairs = { signal: new Float32Array(0), observation: new Float32Array(0) };
      await writeResult(ctx, o, model, pairs, 'sigma from the noisy images alone');
      return;
    }
    const signal = planes(await readImage(o.signal, o.axes), o.signal);
    const pairs = signalObservationPairs(signal, observation, {
      lowerClip: o.lowerClip,
      upperClip: o.upperClip,
    });
    if (o.model === 'gaussian') {
      await writeResult(
        ctx,
        o,
        gaussianNoiseModel(gaussianSigmaFromPairs(pairs)),
        pairs,
        `${pairs.signal.length} pairs`,
      );
      return;
    }
    const started = performance.now();
    const result = await fitNoiseModel(signal, observation, fitOptions(o, runtime!, ctx));
    for (const warning of result.warnings) ctx.warn(warning);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    await writeResult(
      ctx,
      o,
      result.model,
      pairs,
      `${result.pairs} pairs, ${lossSummary(result.losses)}, ${seconds} s`,
    );
  });
}

function bootstrapCommand(ctx: CliContext): Command {
  return withFitOptions(
    new Command('bootstrap')
      .description(
        "bootstrap a noise model: a trained N2V model's prediction as the signal, the noisy data as observation",
      )
      .argument('<model>', 'work dir, checkpoint, BMZ .zip or .onnx of a trained denoiser')
      .argument('<data...>', 'the noisy images'),
  ).action(async (modelPath: string, data: string[], o: FitCliOptions) => {
    await checkOutput(o);
    await requireExisting(modelPath, ...data);
    const runtime = await deviceRuntime(ctx, o.device);
    const denoiser = await loadModel(modelPath, { runtime });
    try {
      const images: AxesArray[] = [];
      for (const path of data) images.push(await readImage(path, o.axes));
      if (o.model === 'gaussian') {
        const { model, signal, observation } = await bootstrapGaussianNoiseModel(denoiser, images);
        await writeResult(ctx, o, model, { signal, observation }, `${signal.length} predicted pixels`);
        return;
      }
      const result = await bootstrapNoiseModel(denoiser, images, fitOptions(o, runtime, ctx));
      for (const warning of result.warnings) ctx.warn(warning);
      const pairs = signalObservationPairs(
        { data: result.signal, shape: [1, result.signal.length] },
        { data: result.observation, shape: [1, result.observation.length] },
        { lowerClip: o.lowerClip, upperClip: o.upperClip },
      );
      await writeResult(ctx, o, result.model, pairs, `${result.pairs} pairs, ${lossSummary(result.losses)}`);
    } finally {
      await denoiser.dispose();
    }
  });
}

export function noiseModelCommand(ctx: CliContext): Command {
  return new Command('noise-model')
    .description('fit or bootstrap a noise model (CAREamics .npz) for PN2V-style training')
    .addCommand(fitCommand(ctx))
    .addCommand(bootstrapCommand(ctx));
}
