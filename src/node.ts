/**
 * careamics-js for Node: everything in the browser-safe entry, plus onnxruntime-node, image files and folders,
 * and a `CAREamist` that keeps its run in a work directory.
 *
 * @example
 * import { CAREamist, createN2VConfig } from 'careamics-js/node';
 * const config = createN2VConfig({ experimentName: 'sem', dataType: 'tiff', axes: 'YX', patchSize: [64, 64], batchSize: 16, numEpochs: 30 });
 * const careamist = new CAREamist(config, { workDir: 'runs/sem' });
 * await careamist.train({ trainSource: 'sem.tif' });
 * await careamist.predictToDisk('sem.tif', 'sem_denoised.tif');
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism, freemem } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  CAREamistError,
  type CAREamistOptions,
  CAREamist as CoreCAREamist,
  checkpointConfiguration,
  type PredictionSettings,
} from './careamist.js';
import { type Configuration, loadConfigYaml } from './config/index.js';
import { defaultSessionOptions, type Runtime } from './engine/index.js';
import type { ImageSource } from './io/index.js';
import { createImageWriter, listImageFiles, openFolder, openImage, writeImage } from './io/node/index.js';
import { type AxesArray, outputLayout } from './prediction/index.js';
import type { TrainingData } from './training/index.js';
import { FolderStore } from './training/node.js';

export * from './index.js';
export {
  createImageWriter,
  listImageFiles,
  openFolder,
  openImage,
  writeFileAtomic,
  writeImage,
} from './io/node/index.js';
export { FolderStore } from './training/node.js';

/** onnxruntime-node with the session options measured best for training on CPU. */
export function nodeRuntime(threads = availableParallelism()): Runtime {
  return {
    name: 'onnxruntime-node',
    ort: ort as unknown as Runtime['ort'],
    sessionOptions: defaultSessionOptions(threads),
  };
}

export type PathOrSources = string | readonly string[] | readonly ImageSource[];

export interface NodeTrainingData {
  trainSource: PathOrSources;
  trainTarget?: PathOrSources;
  valSource?: PathOrSources;
  valTarget?: PathOrSources;
}

export interface NodeCAREamistOptions extends Partial<CAREamistOptions> {
  /** The run folder: config.yaml, checkpoints/, trainer.json, losses.csv. */
  workDir?: string;
}

/** Opens files, or every image of a folder (by the configuration's `data_type`), with the given axes. */
export async function openSources(
  input: PathOrSources,
  axes: string,
  dataType = 'tiff',
): Promise<ImageSource[]> {
  if (typeof input !== 'string') {
    const items = [...input];
    if (items.every((i) => typeof i === 'string')) {
      return Promise.all((items as string[]).map((p) => openImage(p, { axes })));
    }
    return items as ImageSource[];
  }
  if (!input.endsWith('.zarr') && (await isDirectory(input))) {
    const extension = folderExtension(dataType);
    const sources = await openFolder(input, { extension, axes });
    if (sources.length === 0) throw new CAREamistError(`${input}: no .${extension} files in this folder`);
    return sources;
  }
  return [await openImage(input, { axes })];
}

export class CAREamist extends CoreCAREamist {
  readonly workDir?: string;

  constructor(config: Configuration | unknown, options: NodeCAREamistOptions = {}) {
    const { workDir, ...rest } = options;
    super(config, {
      runtime: rest.runtime ?? nodeRuntime(),
      store: rest.store ?? (workDir ? new FolderStore(workDir) : undefined),
      callbacks: rest.callbacks,
    });
    this.workDir = workDir;
  }

  /**
   * Loads a trained model from a work directory (its `checkpoints/last.safetensors`), a `.safetensors`
   * checkpoint, or starts an untrained one from a config YAML.
   */
  static async load(path: string, options: NodeCAREamistOptions = {}): Promise<CAREamist> {
    const info = await stat(path).catch((cause) => {
      throw new CAREamistError(`${path}: no such file or directory`, { cause });
    });
    const file = info.isDirectory() ? join(path, 'checkpoints', 'last.safetensors') : path;
    const bytes = await readFile(file).catch((cause) => {
      throw new CAREamistError(`${file}: cannot read the checkpoint (${(cause as Error).message})`, {
        cause,
      });
    });
    if (['.yaml', '.yml'].includes(extname(file))) {
      return new CAREamist(loadConfigYaml(bytes.toString('utf8')).config, options);
    }
    const checkpoint = new Uint8Array(bytes);
    const careamist = new CAREamist(checkpointConfiguration(checkpoint, file), {
      workDir: info.isDirectory() ? path : undefined,
      ...options,
    });
    await careamist.restore(checkpoint, file);
    return careamist;
  }

  /** Trains on files, folders or ImageSources. */
  override async train(
    data: NodeTrainingData | TrainingData,
    options: { signal?: AbortSignal; resume?: boolean } = {},
  ) {
    const { axes, data_type: dataType } = this.config.data_config;
    const targetAxes = this.config.data_config.target_axes ?? axes;
    const open = (input: PathOrSources | undefined, a: string) =>
      input === undefined ? undefined : openSources(input, a, dataType);
    return super.train(
      {
        trainSource: (await open(data.trainSource, axes))!,
        trainTarget: await open(data.trainTarget, targetAxes),
        valSource: await open(data.valSource, axes),
        valTarget: await open(data.valTarget, targetAxes),
      },
      options,
    );
  }

  /** Predicts a file (or an ImageSource / array); `axes` overrides the configuration's for files. */
  override async predict(
    source: string | ImageSource | AxesArray,
    settings: PredictionSettings & { axes?: string } = {},
  ): Promise<AxesArray> {
    const { axes, ...rest } = settings;
    const input =
      typeof source === 'string'
        ? await openImage(source, { axes: axes ?? this.config.data_config.axes })
        : source;
    return super.predict(input, withMemoryBudget(rest));
  }

  /**
   * Predicts `source` into `output` (.tif/.tiff/.npy/.png, or .zarr streamed region by region). The output is
   * written atomically and never overwrites the input.
   */
  async predictToDisk(
    source: string | ImageSource,
    output: string,
    settings: PredictionSettings & { axes?: string } = {},
  ): Promise<void> {
    if (typeof source === 'string' && samePath(source, output)) {
      throw new CAREamistError(`${output}: the output would overwrite the input`);
    }
    if (typeof source === 'string' && !source.endsWith('.zarr') && (await isDirectory(source))) {
      await this.predictFolder(source, output, settings);
      return;
    }
    const { axes, ...rest } = settings;
    const input =
      typeof source === 'string'
        ? await openImage(source, { axes: axes ?? this.config.data_config.axes })
        : source;
    if (output.endsWith('.zarr')) {
      const layout = outputLayout(input.axes, [...input.shape], this.modelFacts.outChannels);
      const writer = await createImageWriter(output, {
        shape: layout.shape,
        dtype: 'float32',
        axes: layout.axes,
      });
      await this.predictToWriter(input, writer, withMemoryBudget(rest));
      return;
    }
    const result = await super.predict(input, withMemoryBudget(rest));
    await writeImage(output, result, { axes: result.axes });
  }

  /** Every image of `folder` (by the configuration's data type) into `outputFolder`, file names kept. */
  private async predictFolder(
    folder: string,
    outputFolder: string,
    settings: PredictionSettings & { axes?: string },
  ): Promise<void> {
    const extension = folderExtension(this.config.data_config.data_type);
    const files = await listImageFiles(folder, extension);
    if (files.length === 0) throw new CAREamistError(`${folder}: no .${extension} files in this folder`);
    await mkdir(outputFolder, { recursive: true });
    for (const file of files) {
      const target = join(outputFolder, basename(file).replace(/\.npy$/, '.tif'));
      if (samePath(file, target)) throw new CAREamistError(`${target}: the output would overwrite the input`);
      await this.predictToDisk(file, target, settings);
    }
  }
}

/** The file extension a folder of `data_type` images has (CAREamics: tiff → .tif, array → .npy). */
function folderExtension(dataType: string): string {
  return dataType === 'tiff' ? 'tif' : dataType === 'array' ? 'npy' : dataType;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Automatic tiles get half the free memory, at most 1 GiB, unless the caller sets a budget: larger tiles are not
 * faster (bench:predict: 552² tiles on a 2048² image cost 1.05× one untiled pass) and would crowd out the rest.
 */
const MAX_AUTOMATIC_BUDGET = 1024 ** 3;
function withMemoryBudget(settings: PredictionSettings): PredictionSettings {
  return { memoryBudgetBytes: Math.min(freemem() / 2, MAX_AUTOMATIC_BUDGET), ...settings };
}

function samePath(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}
