/** `careamics config ALGORITHM`: a complete configuration YAML from the factories, every default written out. */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Argument, Command, Option } from 'commander';
import {
  type CommonConfigOptions,
  ConfigError,
  type Configuration,
  configurationWarnings,
  createCareConfig,
  createN2NConfig,
  createN2VConfig,
  createPN2VConfig,
  createStructN2VConfig,
  DEFAULT_NUM_EPOCHS,
  LR_SCHEDULERS,
  type LrSchedulerName,
  STRUCT_MASK_AXES,
  type StructMaskAxes,
  saveConfigYaml,
} from '../config/index.js';
import { loadNoiseModel, writeFileAtomic } from '../node.js';
import { CliError, configErrorLine, UsageError } from './errors.js';
import {
  axesOption,
  type CliContext,
  collect,
  exists,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
} from './shared.js';

export const CLI_ALGORITHMS = ['n2v', 'n2v2', 'structn2v', 'pn2v', 'care', 'n2n'] as const;
type CliAlgorithm = (typeof CLI_ALGORITHMS)[number];

interface ConfigOptions {
  axes: string;
  patchSize?: number[];
  batchSize: number;
  epochs: number;
  steps?: number;
  structAxis?: StructMaskAxes;
  structSpan?: number;
  nChannels?: number;
  nChannelsOut?: number;
  targetAxes?: string;
  learningRate?: number;
  lrScheduler?: LrSchedulerName;
  maxTime?: string;
  maskedPixelPercentage?: number;
  roiSize?: number;
  augmentations: boolean;
  experimentName?: string;
  dataType: 'tiff' | 'array' | 'zarr';
  depth?: number;
  seed?: number;
  output: string;
  force?: boolean;
  noiseModel?: string;
  noiseSigma?: number;
  samples?: number;
}

/** The configuration the options describe (throws `ConfigError` naming the field for invalid values). */
export function buildConfig(algorithm: CliAlgorithm, o: ConfigOptions): Configuration {
  const spatial = o.axes.includes('Z') ? 3 : 2;
  const patchSize = o.patchSize ?? (spatial === 3 ? [16, 64, 64] : [64, 64]);
  if (patchSize.length !== spatial) {
    throw new UsageError(
      `--patch-size needs ${spatial} values (${spatial === 3 ? 'Z Y X' : 'Y X'}) for axes ${o.axes}, got ${patchSize.length}`,
    );
  }
  const supervised = algorithm === 'care' || algorithm === 'n2n';
  for (const [flag, value] of [
    ['--noise-model', o.noiseModel],
    ['--noise-sigma', o.noiseSigma],
    ['--samples', o.samples],
  ] as const) {
    if (algorithm !== 'pn2v' && value !== undefined)
      throw new UsageError(`${flag} applies to pn2v, not ${algorithm}`);
  }
  if (algorithm === 'pn2v' && (o.noiseModel === undefined) === (o.noiseSigma === undefined))
    throw new UsageError(
      'pn2v needs a noise model: --noise-model nm.npz (a Gaussian mixture, samples prior) or --noise-sigma σ (Gaussian noise: Gaussian prior, or samples prior with --samples)',
    );
  if (supervised && (o.structAxis !== undefined || o.structSpan !== undefined)) {
    throw new UsageError(
      `--struct-axis and --struct-span apply to n2v, n2v2 and structn2v, not ${algorithm}`,
    );
  }
  if (
    (algorithm === 'n2v' || algorithm === 'n2v2') &&
    o.structSpan !== undefined &&
    o.structAxis === undefined
  ) {
    throw new UsageError('--struct-span needs --struct-axis');
  }
  for (const [flag, value] of [
    ['--n-channels-out', o.nChannelsOut],
    ['--target-axes', o.targetAxes],
  ] as const) {
    if (!supervised && value !== undefined)
      throw new UsageError(`${flag} applies to care and n2n, not ${algorithm}`);
  }
  for (const [flag, value] of [
    ['--masked-pixel-percentage', o.maskedPixelPercentage],
    ['--roi-size', o.roiSize],
  ] as const) {
    if (supervised && value !== undefined)
      throw new UsageError(`${flag} applies to n2v, n2v2, structn2v and pn2v, not ${algorithm}`);
  }
  const common: CommonConfigOptions = {
    experimentName: o.experimentName ?? algorithm,
    dataType: o.dataType,
    axes: o.axes,
    patchSize,
    batchSize: o.batchSize,
    numEpochs: o.epochs,
    ...(o.steps !== undefined && { numSteps: o.steps }),
    ...(!o.augmentations && { augmentations: [] }),
    ...(o.depth !== undefined && { modelParams: { depth: o.depth } }),
    ...(o.seed !== undefined && { seed: o.seed }),
    ...(o.learningRate !== undefined && { optimizerParams: { lr: o.learningRate } }),
    ...(o.lrScheduler !== undefined && { lrScheduler: o.lrScheduler }),
    ...(o.maxTime !== undefined && { trainerParams: { max_time: o.maxTime } }),
  };
  if (supervised) {
    const options = {
      ...common,
      nChannelsIn: o.nChannels,
      nChannelsOut: o.nChannelsOut,
      ...(o.targetAxes !== undefined && { targetAxes: o.targetAxes }),
    };
    return algorithm === 'care' ? createCareConfig(options) : createN2NConfig(options);
  }
  const n2v = {
    ...common,
    nChannels: o.nChannels,
    useN2V2: algorithm === 'n2v2',
    structN2VSpan: o.structSpan,
    ...(o.maskedPixelPercentage !== undefined && { maskedPixelPercentage: o.maskedPixelPercentage }),
    ...(o.roiSize !== undefined && { roiSize: o.roiSize }),
  };
  if (algorithm === 'pn2v') {
    return createPN2VConfig({
      ...n2v,
      ...(o.structAxis !== undefined && { structN2VAxis: o.structAxis }),
      ...(o.samples !== undefined && { numSamples: o.samples }),
      ...(o.noiseModel !== undefined
        ? { noiseModel: { model_type: 'GaussianMixtureNoiseModel', path: resolve(o.noiseModel) } }
        : { noiseSigma: o.noiseSigma! }),
    });
  }
  if (algorithm === 'structn2v') {
    return createStructN2VConfig({ ...n2v, structN2VAxis: o.structAxis ?? 'horizontal' });
  }
  return createN2VConfig({ ...n2v, ...(o.structAxis !== undefined && { structN2VAxis: o.structAxis }) });
}

/** Factory argument names as the options that set them. */
const FLAGS: Record<string, string> = {
  nChannels: '--n-channels',
  nChannelsIn: '--n-channels',
  nChannelsOut: '--n-channels-out',
  channels: '--n-channels',
  patchSize: '--patch-size',
  batchSize: '--batch-size',
  numSamples: '--samples',
};

/** `buildConfig`, with invalid values reported as usage errors that name the option or field. */
function configFromOptions(algorithm: CliAlgorithm, options: ConfigOptions): Configuration {
  try {
    return buildConfig(algorithm, options);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const issues = err.issues.map((i) => ({
      path: FLAGS[i.path] ?? i.path,
      message: i.message.replace(/\bnChannels(In)? or channels\b/, '--n-channels'),
    }));
    throw new UsageError(configErrorLine(new ConfigError(issues)));
  }
}

export function configCommand(ctx: CliContext): Command {
  return new Command('config')
    .description('write a training configuration (YAML, every default filled in)')
    .addArgument(new Argument('<algorithm>', 'the algorithm').choices(CLI_ALGORITHMS))
    .option('--axes <axes>', 'axes of the training images, e.g. YX, SYX, ZYX, SCYX', axesOption, 'YX')
    .option(
      '--patch-size <sizes...>',
      'patch size, Y X or Z Y X (default 64 64, or 16 64 64)',
      collect(positiveInt),
    )
    .option('--batch-size <n>', 'patches per training step', positiveInt, 16)
    .option('--epochs <n>', 'training epochs', positiveInt, DEFAULT_NUM_EPOCHS)
    .option('--steps <n>', 'steps per epoch (default: one pass over the patches)', positiveInt)
    .addOption(
      new Option('--struct-axis <axis>', 'structN2V mask orientation (structn2v: horizontal)').choices(
        STRUCT_MASK_AXES,
      ),
    )
    .option('--struct-span <n>', 'structN2V mask span, odd 3-15 (default 5)', positiveInt)
    .option('--n-channels <n>', 'channels of the input (needed when axes have C)', positiveInt)
    .option('--n-channels-out <n>', 'channels of the target (care, n2n)', positiveInt)
    .option(
      '--target-axes <axes>',
      'axes of the targets when they differ from --axes (care, n2n)',
      axesOption,
    )
    .option(
      '--masked-pixel-percentage <p>',
      'N2V: percent of pixels masked per patch (default 0.2)',
      positiveNumber,
    )
    .option(
      '--roi-size <n>',
      'N2V: side of the window replacement values come from, odd (default 11)',
      positiveInt,
    )
    .option(
      '--noise-model <file>',
      "pn2v: a Gaussian mixture noise model (CAREamics' .npz, e.g. from `careamics noise-model`); the network predicts samples",
    )
    .option(
      '--noise-sigma <sigma>',
      'pn2v: Gaussian noise of this standard deviation (raw units); the network predicts a Gaussian prior, or with --samples samples (the noise as a one-Gaussian mixture)',
      positiveNumber,
    )
    .option(
      '--samples <n>',
      'pn2v: samples of the signal per channel (default 100 with --noise-model; with --noise-sigma it selects the samples prior)',
      positiveInt,
    )
    .option('--learning-rate <lr>', "the optimizer's learning rate (default: Adam's 1e-3)", positiveNumber)
    .addOption(
      new Option(
        '--lr-scheduler <name>',
        'ReduceLROnPlateau (default), StepLR, or CosineAnnealingLR (to the end of the run)',
      ).choices(LR_SCHEDULERS),
    )
    .option('--max-time <DD:HH:MM:SS>', 'stop training after this wall-clock time (Lightning max_time)')
    .option('--no-augmentations', 'no flips or rotations during training')
    .option('--experiment-name <name>', 'names the run (default: the algorithm)')
    .addOption(
      new Option('--data-type <type>', 'file type of the training data')
        .choices(['tiff', 'array', 'zarr'])
        .default('tiff'),
    )
    .option('--depth <n>', 'UNet depth (default 2)', positiveInt)
    .option('--seed <n>', 'seed of patching, augmentation and masking (default random)', nonNegativeInt)
    .option('-o, --output <file>', 'where to write the YAML ("-" for stdout)', 'config.yaml')
    .option('--force', 'overwrite an existing output file')
    .action(async (algorithm: CliAlgorithm, options: ConfigOptions) => {
      if (options.noiseModel !== undefined) {
        if (!(await exists(options.noiseModel)))
          throw new CliError(`${options.noiseModel}: no such noise model file`);
        // A single Gaussian's .npz (`noise-model fit --model gaussian`) configures the Gaussian prior.
        const model = await loadNoiseModel(options.noiseModel);
        if (model.model_type === 'GaussianNoiseModel') {
          if (options.noiseSigma !== undefined)
            throw new UsageError('--noise-model and --noise-sigma: give one noise model');
          options = { ...options, noiseModel: undefined, noiseSigma: model.sigma };
        }
      }
      const config = configFromOptions(algorithm, options);
      for (const warning of configurationWarnings(config)) ctx.warn(warning);
      const yaml = saveConfigYaml(config);
      if (options.output === '-') {
        ctx.io.stdout.write(yaml);
        return;
      }
      if (!options.force && (await exists(options.output))) {
        throw new CliError(`${options.output}: already exists; pass --force to overwrite it`);
      }
      await mkdir(dirname(options.output), { recursive: true });
      await writeFileAtomic(options.output, [new TextEncoder().encode(yaml)]);
      const { patching } = config.data_config;
      const patch = 'patch_size' in patching ? ` patch ${patching.patch_size.join('×')},` : '';
      ctx.io.stdout.write(
        `wrote ${options.output}: ${algorithm}, axes ${config.data_config.axes},${patch} batch ${config.data_config.batch_size}, ${options.epochs} epochs\n`,
      );
    });
}
