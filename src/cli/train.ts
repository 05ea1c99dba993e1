/**
 * `careamics train CONFIG`: trains into a work directory with a progress bar, then charts the losses.
 * `--resume-from run.ckpt` continues a CAREamics (Lightning) run: its weights, optimizer state, epoch and step.
 */
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Command } from 'commander';
import {
  type Configuration,
  isSupervised,
  parseConfiguration,
  resolveTrainerParams,
} from '../config/index.js';
import {
  CAREamist,
  checkpointConfiguration,
  configuredStats,
  configWithStatistics,
  type Device,
  type EpochRecord,
  PREVIOUS_RUN_FILES,
  pathKind,
  RUN_FILES,
  type StepProgress,
  writeFileAtomic,
} from '../node.js';
import { asciiChart, lossChartSvg, lossSeries, svgToPng } from './chart.js';
import { CliError, UsageError } from './errors.js';
import { bar, eta, formatDuration, ProgressBar } from './progress.js';
import {
  byteSize,
  type CliContext,
  deviceOption,
  deviceRuntime,
  exists,
  positiveInt,
  readConfig,
  requireExisting,
  withInterrupt,
} from './shared.js';

interface TrainOptions {
  trainSource: string;
  trainTarget?: string;
  valSource?: string;
  valTarget?: string;
  workDir?: string;
  resume?: boolean;
  resumeFrom?: string;
  force?: boolean;
  epochs?: number;
  memoryBudget?: number;
  device: Device;
}

const LAST = RUN_FILES.lastCheckpoint;

/** Whether `dir` holds a training run (a last checkpoint or trainer state). */
async function isRunDir(dir: string): Promise<boolean> {
  return (await exists(join(dir, LAST))) || (await exists(join(dir, RUN_FILES.trainerState)));
}

/** `--work-dir`, else the config's own folder when it is a run, else `careamics_run` next to the config. */
export async function resolveWorkDir(configPath: string, workDir?: string): Promise<string> {
  if (workDir !== undefined) return workDir;
  const folder = dirname(configPath);
  return (await isRunDir(folder)) ? folder : join(folder, 'careamics_run');
}

function withEpochs(config: Configuration, epochs: number | undefined): Configuration {
  if (epochs === undefined) return config;
  const training = config.training_config;
  return parseConfiguration({
    ...config,
    training_config: { ...training, trainer_params: { ...training.trainer_params, max_epochs: epochs } },
  }).config;
}

function checkData(config: Configuration, o: TrainOptions): void {
  const algorithm = config.algorithm_config.algorithm;
  const supervised = isSupervised(config.algorithm_config);
  if (supervised && o.trainTarget === undefined) {
    throw new UsageError(`${algorithm} learns from pairs: give --train-target`);
  }
  if (!supervised && (o.trainTarget ?? o.valTarget) !== undefined) {
    throw new UsageError(
      `${algorithm} is self-supervised: --train-target and --val-target are for care and n2n`,
    );
  }
  if (o.valTarget !== undefined && o.valSource === undefined) {
    throw new UsageError('--val-target needs --val-source');
  }
  if (supervised && o.valSource !== undefined && o.valTarget === undefined) {
    throw new UsageError(`${algorithm} validates on pairs: give --val-target with --val-source`);
  }
}

/** Shows steps on a bar and one line per epoch; the ETA counts this session's pace. */
function trainingProgress(progress: ProgressBar, maxEpochs: number) {
  const started = performance.now();
  let steps = 0;
  return {
    onStep(p: StepProgress) {
      steps++;
      const remaining = (maxEpochs - p.epoch - 1) * p.stepsPerEpoch + (p.stepsPerEpoch - p.stepInEpoch);
      const seconds = eta((performance.now() - started) / 1000, steps, steps + remaining);
      progress.update(
        `epoch ${p.epoch + 1}/${maxEpochs} ${bar(p.stepInEpoch, p.stepsPerEpoch)} step ${p.stepInEpoch}/${p.stepsPerEpoch} loss ${p.loss.toFixed(4)} ETA ${formatDuration(seconds)}`,
        p.stepInEpoch === 1,
      );
    },
    onEpochEnd(r: EpochRecord) {
      const val = r.val_loss === null ? '' : `  val_loss ${r.val_loss.toFixed(4)}`;
      progress.log(
        `epoch ${r.epoch + 1}/${maxEpochs}  train_loss ${r.train_loss.toFixed(4)}${val}  lr ${r.lr.toExponential(1)}  ${r.seconds.toFixed(1)}s`,
      );
    },
  };
}

/** Writes `losses.png` (or `losses.svg` where the PNG renderer cannot load) and returns its path. */
async function writeLossChart(ctx: CliContext, workDir: string, history: EpochRecord[], title: string) {
  const svg = await lossChartSvg(history, title);
  const encode = (text: string) => new TextEncoder().encode(text);
  let png: Uint8Array;
  try {
    png = await svgToPng(svg);
  } catch (err) {
    ctx.warn(`cannot render PNG (${(err as Error).message.split('\n')[0]}); writing SVG instead`);
    await writeFileAtomic(join(workDir, RUN_FILES.lossChartSvg), [encode(svg)]);
    return join(workDir, RUN_FILES.lossChartSvg);
  }
  await writeFileAtomic(join(workDir, RUN_FILES.lossChart), [png]);
  return join(workDir, RUN_FILES.lossChart);
}

/** The first field of the UNet where `config` differs from the checkpoint's, as `field (a vs b)`. */
function architectureDifference(config: Configuration, checkpoint: Configuration): string | undefined {
  const ours = config.algorithm_config.model as unknown as Record<string, unknown>;
  const theirs = checkpoint.algorithm_config.model as unknown as Record<string, unknown>;
  const field = [...new Set([...Object.keys(theirs), ...Object.keys(ours)])].find(
    (k) => JSON.stringify(ours[k]) !== JSON.stringify(theirs[k]),
  );
  return field && `${field} (${JSON.stringify(ours[field])} here, ${JSON.stringify(theirs[field])} there)`;
}

/**
 * The configuration to train with: CONFIG, or the `--resume-from` checkpoint's. Given both, CONFIG must describe
 * the checkpoint's UNet, and keeps the checkpoint's statistics unless it has its own.
 */
async function trainingConfig(
  ctx: CliContext,
  configPath: string | undefined,
  resumeFrom: string | undefined,
): Promise<Configuration> {
  const fromCheckpoint =
    resumeFrom === undefined
      ? undefined
      : checkpointConfiguration(new Uint8Array(await readFile(resumeFrom)), resumeFrom);
  if (configPath === undefined) return fromCheckpoint!;
  const { config, warnings } = await readConfig(configPath);
  for (const warning of warnings) ctx.warn(`${configPath}: ${warning}`);
  if (!fromCheckpoint) return config;
  const difference = architectureDifference(config, fromCheckpoint);
  if (difference !== undefined) {
    throw new CliError(
      `${configPath}: not the architecture of ${resumeFrom}: algorithm_config.model.${difference}`,
    );
  }
  const stats = configuredStats(fromCheckpoint);
  return configuredStats(config) || !stats ? config : configWithStatistics(config, stats);
}

/** `--resume-from` takes a checkpoint file, and not with `--resume` (which continues the work dir's run). */
async function checkResumeFrom(configPath: string | undefined, o: TrainOptions): Promise<void> {
  if (o.resumeFrom === undefined) {
    if (configPath === undefined) throw new UsageError('give a configuration, or --resume-from CHECKPOINT');
    return;
  }
  if (o.resume) {
    throw new UsageError(
      "--resume continues the work dir's run, --resume-from a checkpoint: give one of them",
    );
  }
  await requireExisting(o.resumeFrom);
  const kind = await pathKind(o.resumeFrom);
  if (kind !== 'checkpoint') {
    throw new UsageError(`--resume-from ${o.resumeFrom}: give a .ckpt or .safetensors checkpoint`);
  }
}

/** The work dir, checked against `--resume` / `--force`; `--force` clears the previous run's files. */
async function prepareWorkDir(configPath: string, options: TrainOptions): Promise<string> {
  if (options.resume && options.force) throw new UsageError('--resume and --force cannot be used together');
  const workDir = await resolveWorkDir(configPath, options.workDir);
  const hasRun = await isRunDir(workDir);
  if (hasRun && !options.resume && !options.force) {
    throw new CliError(
      `${workDir}: already holds a training run; pass --resume to continue it, --force to start over, or another --work-dir`,
    );
  }
  if (options.resume && !(await exists(join(workDir, LAST)))) {
    throw new CliError(`${join(workDir, LAST)}: no checkpoint to resume from`);
  }
  if (hasRun && options.force) {
    await Promise.all(PREVIOUS_RUN_FILES.map((f) => rm(join(workDir, f), { recursive: true, force: true })));
  }
  return workDir;
}

export function trainCommand(ctx: CliContext): Command {
  return new Command('train')
    .description(
      'train a model from a configuration; checkpoints, losses.csv and losses.png go to the work dir',
    )
    .argument(
      '[config]',
      "configuration YAML (from `careamics config`, or a CAREamics careamics.yaml); with --resume-from, default: the checkpoint's",
    )
    .requiredOption('--train-source <path>', 'training image, or folder of images')
    .option('--train-target <path>', 'training targets (care, n2n), matched to sources by order')
    .option('--val-source <path>', 'validation image(s) (default: patches withheld from the training data)')
    .option('--val-target <path>', 'validation targets (care, n2n)')
    .option(
      '--work-dir <dir>',
      'run folder (default: the config folder if it is a run, else careamics_run next to it)',
    )
    .option('--resume', "continue from the work dir's last checkpoint")
    .option(
      '--resume-from <ckpt>',
      'continue a CAREamics Lightning .ckpt (or a .safetensors) checkpoint in a new work dir: weights, optimizer state, epoch and step',
    )
    .option('--force', 'start over in a work dir that already holds a run (deletes its checkpoints)')
    .option('--epochs <n>', "override the configuration's number of epochs", positiveInt)
    .option(
      '--memory-budget <size>',
      'memory the training images may take (e.g. 1GiB); larger data trains out of core, reading patches from the files (default: half the RAM)',
      byteSize,
    )
    .addOption(deviceOption())
    .action(async (configArgument: string | undefined, options: TrainOptions) => {
      await checkResumeFrom(configArgument, options);
      const config = withEpochs(
        await trainingConfig(ctx, configArgument, options.resumeFrom),
        options.epochs,
      );
      const configPath = (configArgument ?? options.resumeFrom)!;
      checkData(config, options);
      await requireExisting(options.trainSource, options.trainTarget, options.valSource, options.valTarget);
      const runtime = await deviceRuntime(ctx, options.device);
      const workDir = await prepareWorkDir(configPath, options);
      const maxEpochs = resolveTrainerParams(config.training_config).max_epochs;
      const progress = new ProgressBar(ctx.io.stderr);
      const careamistOptions = {
        workDir,
        runtime,
        callbacks: trainingProgress(progress, maxEpochs),
        onWarning: (message: string) => ctx.warn(message),
      };
      const careamist =
        options.resumeFrom === undefined
          ? new CAREamist(config, careamistOptions)
          : await CAREamist.load(options.resumeFrom, { ...careamistOptions, config });
      const from = careamist.lightning
        ? ` (from ${options.resumeFrom}, epoch ${careamist.lightning.epochsDone}, step ${careamist.lightning.globalStep})`
        : options.resumeFrom === undefined
          ? ''
          : ` (from ${options.resumeFrom})`;
      ctx.io.stderr.write(
        `training ${config.algorithm_config.algorithm} "${config.experiment_name}" in ${workDir}${options.resume ? ' (resuming)' : from}\n`,
      );
      const interrupted = async () => {
        progress.done();
        const resume = `careamics train ${configPath} --work-dir ${workDir} --resume`;
        return (await exists(join(workDir, LAST)))
          ? `interrupted; the last checkpoint is ${join(workDir, LAST)}; continue with: ${resume}`
          : 'interrupted before the first epoch ended; nothing was saved';
      };
      const state = await withInterrupt(ctx, interrupted, async (signal) => {
        try {
          return await careamist.train(
            {
              trainSource: options.trainSource,
              trainTarget: options.trainTarget,
              valSource: options.valSource,
              valTarget: options.valTarget,
            },
            {
              signal,
              resume: options.resume || options.resumeFrom !== undefined,
              ...(options.memoryBudget !== undefined && { memoryBudgetBytes: options.memoryBudget }),
              onMessage: (message) => {
                progress.done();
                ctx.io.stderr.write(`careamics: ${message}\n`);
              },
            },
          );
        } finally {
          progress.done();
        }
      });
      const width = Math.max(20, Math.min(60, (ctx.io.stdout.columns ?? 80) - 14));
      ctx.io.stdout.write(
        `\nLosses of ${config.experiment_name}\n${asciiChart(lossSeries(state.history), { width })}`,
      );
      const chart = await writeLossChart(ctx, workDir, state.history, `${config.experiment_name}: losses`);
      const best = state.bestValLoss === null ? '' : `, best val_loss ${state.bestValLoss.toFixed(4)}`;
      ctx.io.stdout.write(
        `trained ${state.epoch} epochs (${state.globalStep} steps${best}); checkpoints in ${join(workDir, RUN_FILES.checkpointDir)}, chart ${basename(chart)}\n` +
          `predict with: careamics predict ${workDir} IMAGE_OR_FOLDER\n`,
      );
    });
}
