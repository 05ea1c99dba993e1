/** `careamics export WORKDIR -o model.zip`: a BioImage Model Zoo package (format 0.5, ONNX weights), tested before it is saved. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import {
  centredTestCrop,
  exportToBmz,
  importBmz,
  minimumSize,
  normalizedPredict,
  testBmz,
} from '../bmz/index.js';
import { writeBmzFile } from '../bmz/node.js';
import type { UNetConfig } from '../config/index.js';
import { Rng } from '../data/index.js';
import { openImage } from '../io/node/index.js';
import { nodeRuntime } from '../node.js';
import type { Normalization } from '../prediction/index.js';
import { CliError, UsageError } from './errors.js';
import { loadModel, pathKind } from './models.js';
import { axesOption, type CliContext, exists } from './shared.js';

interface ExportOptions {
  output: string;
  name: string;
  authors: string;
  description?: string;
  dataDescription?: string;
  input?: string;
  axes?: string;
  cover?: string;
  license?: string;
  modelVersion?: string;
  force?: boolean;
}

/** A centred crop of the image at `path`, the package's test input. */
async function testImage(path: string, axes: string | undefined, a: UNetConfig) {
  return centredTestCrop(await openImage(path, axes === undefined ? {} : { axes }), a);
}

/** Gaussian noise with the training statistics, for when no test image is given. */
function syntheticImage(a: UNetConfig, n: Normalization) {
  const side = Math.max(minimumSize(a), 64);
  const spatial = a.conv_dims === 3 ? [minimumSize(a), side, side] : [side, side];
  const shape = a.in_channels > 1 ? [a.in_channels, ...spatial] : spatial;
  const axes = `${a.in_channels > 1 ? 'C' : ''}${a.conv_dims === 3 ? 'ZYX' : 'YX'}`;
  const plane = spatial.reduce((x, y) => x * y, 1);
  const rng = new Rng(0);
  const data = Float32Array.from({ length: plane * a.in_channels }, (_, i) => {
    const c = Math.floor(i / plane);
    return rng.normal(n.mean[n.mean.length === 1 ? 0 : c], n.std[n.std.length === 1 ? 0 : c]);
  });
  return { data, shape, axes };
}

export function exportCommand(ctx: CliContext): Command {
  return new Command('export')
    .description(
      'package a trained model for the BioImage Model Zoo (zip with ONNX weights, tested before saving)',
    )
    .argument('<model>', 'work dir or .safetensors checkpoint')
    .requiredOption('-o, --output <zip>', 'the package to write (.zip)')
    .requiredOption('--name <name>', 'model name, 5-128 letters, digits, spaces or _+-()')
    .requiredOption('--authors <names>', 'authors separated by ";", e.g. "Ada Lovelace; Alan Turing"')
    .option('--description <text>', 'one-sentence description (default from the algorithm)')
    .option('--data-description <text>', 'what the training data was')
    .option('--input <image>', 'test image for the package (default: noise with the training statistics)')
    .option('--axes <axes>', 'axes of --input (default: the training axes)', axesOption)
    .option('--cover <png>', 'cover image (default: input | output)')
    .option('--license <spdx>', 'SPDX license identifier', 'BSD-3-Clause')
    .option('--model-version <semver>', 'version of this model', '0.1.0')
    .option('--force', 'overwrite an existing package')
    .action(async (modelPath: string, o: ExportOptions) => {
      if (!o.output.toLowerCase().endsWith('.zip'))
        throw new UsageError(`-o ${o.output}: a BMZ package ends in .zip`);
      const authors = o.authors
        .split(';')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      if (authors.length === 0) throw new UsageError('--authors needs at least one name');
      if (!o.force && (await exists(o.output))) {
        throw new CliError(`${o.output}: already exists; pass --force to overwrite it`);
      }
      const kind = await pathKind(modelPath);
      if (kind !== 'run' && kind !== 'checkpoint') {
        throw new UsageError(
          `${modelPath}: export needs a work dir or .safetensors checkpoint, not a ${kind} file`,
        );
      }
      const model = await loadModel(modelPath);
      try {
        const { careamist } = model;
        if (!careamist?.engineModel || !model.normalization)
          throw new CliError(`${modelPath}: not a trained model`);
        const n = model.normalization;
        const architecture = careamist.engineModel.architecture;
        const config = careamist.config;
        const losses = careamist.getLosses();
        const vals = losses.val_epoch.filter((v): v is number => v !== null);
        if (o.input === undefined)
          ctx.warn('no --input: the test image and cover are noise with the training statistics');
        const zip = await exportToBmz({
          onnx: careamist.exportOnnx(),
          config,
          architecture,
          normalization: { means: n.mean, stds: n.std, targetMeans: n.targetMean, targetStds: n.targetStd },
          name: o.name,
          authors: authors.map((name) => ({ name })),
          description:
            o.description ??
            `${config.algorithm_config.algorithm.toUpperCase()} restoration trained with careamics-js`,
          dataDescription: o.dataDescription,
          inputArray:
            o.input === undefined
              ? syntheticImage(architecture, n)
              : await testImage(o.input, o.axes ?? config.data_config.axes, architecture),
          predict: normalizedPredict(model.predictFn, n),
          trainingSummary: {
            epochs: losses.train_epoch.length,
            ...(losses.train_epoch.length > 0 && { final_train_loss: losses.train_epoch.at(-1)! }),
            ...(vals.length > 0 && { best_val_loss: Math.min(...vals) }),
          },
          license: o.license,
          version: o.modelVersion,
          cover: o.cover === undefined ? undefined : new Uint8Array(await readFile(o.cover)),
        });
        const test = await testBmz(await importBmz(zip, o.output), nodeRuntime());
        if (!test.passed) {
          throw new CliError(
            `${o.output}: the package fails its own test (max |Δ| ${test.maxAbsDiff.toExponential(2)}, ${test.mismatched} values off); not written`,
          );
        }
        await writeBmzFile(o.output, zip);
        ctx.io.stdout.write(
          `wrote ${o.output} (${(zip.length / 1024).toFixed(0)} KiB); its test passes (max |Δ| ${test.maxAbsDiff.toExponential(1)})\n`,
        );
      } finally {
        await model.dispose();
      }
    });
}
