/** `careamics export WORKDIR|run.ckpt -o model.zip`: a BioImage Model Zoo package (format 0.5, ONNX weights), tested before it is saved. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { CAREamist, type Device, openImage, pathKind, writeFileAtomic } from '../node.js';
import { CliError, UsageError } from './errors.js';
import { axesOption, type CliContext, deviceOption, deviceRuntime, exists } from './shared.js';

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
  device: Device;
}

export function exportCommand(ctx: CliContext): Command {
  return new Command('export')
    .description(
      'package a trained model for the BioImage Model Zoo (zip with ONNX weights, tested before saving)',
    )
    .argument('<model>', 'work dir, .safetensors or CAREamics .ckpt checkpoint')
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
    .addOption(deviceOption())
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
          `${modelPath}: export needs a work dir, a .safetensors or a .ckpt checkpoint, not a ${kind} file`,
        );
      }
      const runtime = await deviceRuntime(ctx, o.device);
      const careamist = await CAREamist.load(modelPath, { runtime });
      try {
        if (!careamist.normalization) throw new CliError(`${modelPath}: not a trained model`);
        if (o.input === undefined)
          ctx.warn('no --input: the test image and cover are noise with the training statistics');
        const input =
          o.input === undefined ? undefined : await openImage(o.input, { axes: o.axes ?? careamist.axes });
        const zip = await careamist.exportBmz({
          name: o.name,
          authors,
          description: o.description,
          dataDescription: o.dataDescription,
          input,
          license: o.license,
          version: o.modelVersion,
          cover: o.cover === undefined ? undefined : new Uint8Array(await readFile(o.cover)),
        });
        await writeFileAtomic(o.output, [zip]);
        ctx.io.stdout.write(`wrote ${o.output} (${(zip.length / 1024).toFixed(0)} KiB); its test passes\n`);
      } finally {
        await careamist.dispose();
      }
    });
}
