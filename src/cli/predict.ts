/** `careamics predict MODEL SOURCE`: tiled prediction of an image or every image of a folder, to TIFF or Zarr. */

import { mkdir } from 'node:fs/promises';
import { freemem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import {
  type Device,
  enqueuePrediction,
  isImageFolder,
  isIoError,
  listImages,
  loadModel,
  openImage,
  pathKind,
  predictToDisk,
  predictWithWorkers,
  waitForRun,
} from '../node.js';
import { CliError, UsageError } from './errors.js';
import { bar, ProgressBar } from './progress.js';
import { formatRun } from './queue.js';
import {
  axesOption,
  type CliContext,
  collect,
  deviceOption,
  deviceRuntime,
  finiteNumber,
  loadedAs,
  nonNegativeInt,
  positiveInt,
  requireExisting,
  withInterrupt,
} from './shared.js';

interface PredictCliOptions {
  output?: string;
  axes?: string;
  tileSize?: number[];
  tileOverlap?: number[];
  tta?: boolean;
  batchSize: number;
  format: 'tiff' | 'zarr';
  outputDtype: 'float32' | 'input';
  mean?: number[];
  std?: number[];
  frozen?: boolean;
  device: Device;
  workers: number;
  queue?: string;
  wait?: boolean;
  attempts?: number;
  backoff?: number;
  regionSize?: number;
  chunkSize?: number[];
  pn2vOutput?: 'mmse' | 'prior';
}

/** `<name>_denoised.tif` (or `.zarr`): the input's name without its extension(s). */
export function outputName(input: string, format: 'tiff' | 'zarr'): string {
  const stem = basename(input.replace(/[/\\]+$/, '')).replace(/(\.ome)?\.(tiff?|png|npy|zarr)$/i, '');
  return `${stem}_denoised.${format === 'zarr' ? 'zarr' : 'tif'}`;
}

/** Inputs, their outputs and the output folder; refuses outputs that would land on inputs. */
async function planOutputs(source: string, format: 'tiff' | 'zarr', outDir?: string) {
  await requireExisting(source);
  const folder = await isImageFolder(source);
  const inputs = folder ? await listImages(source) : [source];
  if (inputs.length === 0)
    throw new CliError(`${source}: no images (.tif, .tiff, .png, .npy, .zarr) in this folder`);
  const dir = outDir ?? join(dirname(source.replace(/[/\\]+$/, '')), 'predictions');
  if (folder && resolve(dir) === resolve(source)) {
    throw new CliError(
      `${dir}: is the input folder; predictions would mix with the inputs (and be read as inputs next time); choose another -o`,
    );
  }
  const outputs = inputs.map((input) => join(dir, outputName(input, format)));
  const inputPaths = new Set(inputs.map((p) => resolve(p)));
  const clash = outputs.find((o) => inputPaths.has(resolve(o)));
  if (clash) throw new CliError(`${clash}: the prediction would overwrite this input; choose another -o`);
  const seen = new Map<string, string>();
  inputs.forEach((input, i) => {
    const other = seen.get(outputs[i]);
    if (other) throw new CliError(`${outputs[i]}: both ${other} and ${input} would be written here`);
    seen.set(outputs[i], input);
  });
  return { dir, inputs, outputs };
}

/**
 * Opens an image with `--axes`, else the training axes; when those do not fit the image (a single YX image
 * for a model trained on SYX stacks), with the file's own axes, and says so.
 */
async function openSource(ctx: CliContext, path: string, axes?: string, trainingAxes?: string) {
  if (axes !== undefined || trainingAxes === undefined)
    return openImage(path, axes === undefined ? {} : { axes });
  try {
    return await openImage(path, { axes: trainingAxes });
  } catch (err) {
    if (!isIoError(err, 'AxesMismatch')) throw err;
    const source = await openImage(path);
    ctx.warn(
      `${path}: the training axes ${trainingAxes} do not fit shape [${source.shape}]; using ${source.axes} (set --axes to override)`,
    );
    return source;
  }
}

/** What `predict` needs of its MODEL argument, checked before anything is loaded: usage errors, exit 2. */
async function checkModelArgument(modelPath: string, o: PredictCliOptions): Promise<void> {
  const kind = await pathKind(modelPath);
  if (kind === 'config') {
    throw new UsageError(
      `${modelPath}: a configuration, not a trained model; train it first (careamics train ${modelPath} …)`,
    );
  }
  if (kind === 'image') {
    throw new UsageError(
      `${modelPath}: not a model; give a work dir, a .safetensors or .ckpt checkpoint, an .onnx file or a BMZ .zip`,
    );
  }
  const statistics = o.mean !== undefined || o.std !== undefined;
  if (kind !== 'bmz' && o.frozen) {
    throw new UsageError('--frozen applies to BMZ .zip packages only');
  }
  if (kind !== 'onnx' && statistics) {
    throw new UsageError('--mean and --std apply to .onnx models only; the others carry their statistics');
  }
  if (kind === 'onnx' && (o.mean === undefined || o.std === undefined)) {
    throw new UsageError(
      `${modelPath}: an .onnx model needs --mean and --std (the training statistics); work dirs, checkpoints and BMZ zips carry them`,
    );
  }
}

/** `--workers`, `--queue` and their options, checked together: usage errors. */
function checkDistributedOptions(o: PredictCliOptions): void {
  if (o.queue !== undefined && o.workers > 1) {
    throw new UsageError('--workers and --queue exclude each other: with --queue, start `careamics worker`s');
  }
  if ((o.queue !== undefined || o.workers > 1) && o.device !== 'cpu') {
    throw new UsageError('--workers and --queue predict on the CPU; drop --device');
  }
  const queueOnly = { '--wait': o.wait, '--attempts': o.attempts, '--backoff': o.backoff };
  for (const [name, value] of Object.entries(queueOnly)) {
    if (value !== undefined && o.queue === undefined) throw new UsageError(`${name} applies to --queue only`);
  }
  const split = { '--region-size': o.regionSize, '--chunk-size': o.chunkSize };
  for (const [name, value] of Object.entries(split)) {
    if (value !== undefined && o.queue === undefined && o.workers === 1) {
      throw new UsageError(`${name} applies to --workers and --queue only`);
    }
  }
  if (o.chunkSize && o.format !== 'zarr') throw new UsageError('--chunk-size applies to --format zarr only');
}

/** What every way of predicting (one process, `--workers`, `--queue`) takes from the options, in one place. */
function predictionSettings(o: PredictCliOptions) {
  return {
    tileSize: o.tileSize,
    tileOverlap: o.tileOverlap,
    tta: o.tta,
    ...(o.pn2vOutput !== undefined && { pn2vOutput: o.pn2vOutput }),
    batchSize: o.batchSize,
    outputDtype: o.outputDtype,
    availableMemoryBytes: freemem(),
  };
}

/** `--queue`: creates the outputs, enqueues the jobs, and with `--wait` follows the run to its end. */
async function enqueue(
  ctx: CliContext,
  modelPath: string,
  plan: { dir: string; inputs: string[]; outputs: string[] },
  o: PredictCliOptions,
): Promise<void> {
  const queue = o.queue!;
  const run = await enqueuePrediction(
    queue,
    modelPath,
    plan.inputs.map((input, i) => ({ input, output: plan.outputs[i]!, axes: o.axes })),
    {
      ...predictionSettings(o),
      normalization: o.mean && o.std ? { mean: o.mean, std: o.std } : undefined,
      regionSize: o.regionSize,
      chunkSize: o.chunkSize,
      attempts: o.attempts,
      backoffMs: o.backoff,
    },
  );
  ctx.io.stdout.write(
    `run ${run.runId}: ${run.jobs} job(s) for ${plan.inputs.length} image(s) on ${queue} → ${run.outputs.join(', ')}
`,
  );
  if (!o.wait) {
    ctx.io.stdout.write(
      `start workers with: careamics worker --queue ${queue}
follow with: careamics queue status --queue ${queue}
`,
    );
    return;
  }
  const progress = new ProgressBar(ctx.io.stderr);
  try {
    const status = await withInterrupt(
      ctx,
      () => `stopped waiting; run ${run.runId} goes on (careamics queue status --queue ${queue})`,
      (signal) =>
        waitForRun(queue, run.runId, {
          signal,
          onProgress: (s) =>
            progress.update(
              `run ${s.runId} ${bar(s.counts.completed, s.jobs)} job ${s.counts.completed}/${s.jobs}`,
            ),
        }),
    );
    progress.done();
    ctx.io.stdout.write(`${formatRun(status)}
`);
  } finally {
    progress.done();
  }
}

export function predictCommand(ctx: CliContext): Command {
  return new Command('predict')
    .description('denoise an image, or every image of a folder, with a trained model')
    .argument('<model>', 'work dir, .safetensors or .ckpt checkpoint, .onnx file or BMZ .zip')
    .argument('<source>', 'image file (.tif, .png, .npy, .zarr) or folder of images')
    .option('-o, --output <dir>', 'output folder (default: predictions/ next to the source)')
    .option(
      '--axes <axes>',
      'axes of the images (default: the training axes, else from the file)',
      axesOption,
    )
    .option(
      '--tile-size <sizes...>',
      'tile size, Y X or Z Y X (default: chosen from free memory)',
      collect(positiveInt),
    )
    .option(
      '--tile-overlap <sizes...>',
      'tile overlap, even, Y X or Z Y X (default 48 or more)',
      collect(nonNegativeInt),
    )
    .option('--tta', 'average the 8 flips and rotations (8× slower)')
    .option('--batch-size <n>', 'tiles per model call', positiveInt, 1)
    .addOption(new Option('--format <format>', 'output format').choices(['tiff', 'zarr']).default('tiff'))
    .addOption(
      new Option('--output-dtype <dtype>', "float32, or the input's dtype (rounded, clipped)")
        .choices(['float32', 'input'])
        .default('float32'),
    )
    .addOption(
      new Option(
        '--pn2v-output <output>',
        'pn2v models: the posterior mean (mmse, default) or the network prior mean (prior)',
      ).choices(['mmse', 'prior']),
    )
    .option('--mean <values...>', '.onnx models: training mean per channel', collect(finiteNumber))
    .option('--std <values...>', '.onnx models: training std per channel', collect(finiteNumber))
    .option(
      '--frozen',
      "BMZ .zip: predict with the package's ONNX weights and processing, as bioimage.io does, even when it carries CAREamics' state dict",
    )
    .addOption(deviceOption())
    .option(
      '--workers <n>',
      'processes on this machine, each its own ONNX Runtime session with cores/n threads',
      positiveInt,
      1,
    )
    .option('--queue <url>', 'enqueue jobs on Redis (redis://HOST:PORT/DB) for `careamics worker`s')
    .option('--wait', '--queue: wait until the workers are done (progress on stderr)')
    .option('--attempts <n>', '--queue: tries per job before the run fails (default 3)', positiveInt)
    .option('--backoff <ms>', '--queue: first retry delay, doubled at each retry (default 1000)', positiveInt)
    .option(
      '--region-size <pixels>',
      '--workers/--queue: pixels along Y and X per job, in whole chunks',
      positiveInt,
    )
    .option(
      '--chunk-size <sizes...>',
      'OME-Zarr chunk size, Y X or Z Y X (default 256; --queue jobs are whole chunks)',
      collect(positiveInt),
    )
    .action(async (modelPath: string, sourcePath: string, o: PredictCliOptions) => {
      const spatial = (sizes: number[] | undefined, name: string) => {
        if (sizes && sizes.length !== 2 && sizes.length !== 3) {
          throw new UsageError(`${name} needs 2 (Y X) or 3 (Z Y X) values, got ${sizes.length}`);
        }
      };
      spatial(o.tileSize, '--tile-size');
      spatial(o.tileOverlap, '--tile-overlap');
      spatial(o.chunkSize, '--chunk-size');
      checkDistributedOptions(o);
      const plan = await planOutputs(sourcePath, o.format, o.output);
      await checkModelArgument(modelPath, o);
      if (o.queue !== undefined) {
        await enqueue(ctx, modelPath, plan, o);
        return;
      }
      const runtime = await deviceRuntime(ctx, o.device);
      const model = await loadModel(modelPath, {
        runtime,
        normalization: o.mean && o.std ? { mean: o.mean, std: o.std } : undefined,
        frozen: o.frozen,
      });
      ctx.io.stderr.write(`model: ${modelPath} as ${loadedAs(model)}\n`);
      const progress = new ProgressBar(ctx.io.stderr);
      let written = 0;
      try {
        const describe = () => {
          progress.done();
          return `interrupted; ${written} of ${plan.inputs.length} image(s) written to ${plan.dir}`;
        };
        await withInterrupt(ctx, describe, async (signal) => {
          for (const [i, input] of plan.inputs.entries()) {
            const source = await openSource(ctx, input, o.axes, model.axes);
            await mkdir(plan.dir, { recursive: true });
            const label = `${plan.inputs.length > 1 ? `image ${i + 1}/${plan.inputs.length} ` : ''}${basename(input)}`;
            const started = performance.now();
            const settings = { ...predictionSettings(o), signal };
            const result =
              o.workers > 1
                ? await predictWithWorkers(modelPath, input, plan.outputs[i], {
                    ...settings,
                    workers: o.workers,
                    axes: source.axes,
                    normalization: o.mean && o.std ? { mean: o.mean, std: o.std } : undefined,
                    regionSize: o.regionSize,
                    chunkSize: o.chunkSize,
                    onProgress: (done, total) =>
                      progress.update(`${label} ${bar(done, total)} region ${done}/${total}`, done === total),
                  })
                : await predictToDisk(model, source, plan.outputs[i], {
                    ...settings,
                    onProgress: (done, total) =>
                      progress.update(`${label} ${bar(done, total)} tile ${done}/${total}`, done === total),
                  });
            written++;
            const seconds = ((performance.now() - started) / 1000).toFixed(1);
            progress.done();
            ctx.io.stdout.write(
              `${input} → ${plan.outputs[i]} (${result.axes} ${result.shape.join('×')}, ${seconds}s)\n`,
            );
          }
        });
      } finally {
        progress.done();
        await model.dispose();
      }
    });
}
