/**
 * The facade with paths: a `CAREamist` that keeps its run in a work directory, `loadModel` for any model on
 * disk (work dir, checkpoint, BMZ zip, ONNX), and prediction from files into files, written atomically.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { importBmz } from '../bmz/index.js';
import { type Configuration, loadConfigYaml } from '../config/index.js';
import { nodeRuntime } from '../engine/node.js';
import type { ImageSource } from '../io/index.js';
import {
  createImageWriter,
  isImageFolder,
  isZarrPath,
  openImage,
  writeFileAtomic,
  writeImage,
} from '../io/node/index.js';
import { type AxesArray, outputLayout } from '../prediction/index.js';
import { RUN_FILES, type TrainingData } from '../training/index.js';
import { FolderStore } from '../training/node.js';
import type { BmzExportDetails } from './bmz.js';
import {
  type CAREamistOptions,
  CAREamist as CoreCAREamist,
  checkpointConfiguration,
  type TrainOptions,
} from './careamist.js';
import { folderImages, openFolderImages } from './folders.js';
import type { FrozenModel } from './frozen.js';
import {
  isTrainablePackage,
  type LoadModelOptions,
  loadBmzPackage,
  loadModel as loadModelBytes,
  modelFileKind,
  refuseFrozenUnlessBmz,
  refuseStatisticsUnlessOnnx,
  requireStatistics,
} from './load.js';
import { CAREamistError, type PredictionSettings, type TiledModel } from './tiled.js';

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
  /** Hears what the run does differently from what was asked (default: `process.emitWarning`). */
  onWarning?: (message: string) => void;
  /** `load` only: train on with this configuration instead of the checkpoint's (the same architecture). */
  config?: Configuration;
}

/** Prediction settings for files: `axes` overrides the model's training axes for the inputs. */
export type FilePredictionSettings = PredictionSettings & { axes?: string };

/**
 * Opens files, or the images of a folder (chosen by the configuration's `data_type`, see `selectFolderImages`),
 * with the given axes. `warn` hears when a folder's format is not the declared one.
 */
export async function openSources(
  input: PathOrSources,
  axes: string,
  dataType = 'tiff',
  warn: (message: string) => void = emitWarning,
): Promise<ImageSource[]> {
  if (typeof input !== 'string') {
    const items = [...input];
    if (items.every((i) => typeof i === 'string')) {
      return Promise.all((items as string[]).map((p) => openImage(p, { axes })));
    }
    return items as ImageSource[];
  }
  if (await isImageFolder(input)) {
    return openFolderImages(await folderImages(input, dataType, warn), axes);
  }
  return [await openImage(input, { axes })];
}

/**
 * Training images may take half the machine's memory before training goes out of core: the rest is for the engine,
 * the batches and everything else running.
 */
export const defaultTrainingBudget = () => Math.floor(totalmem() / 2);

const emitWarning = (message: string) => process.emitWarning(message, 'CAREamicsWarning');

export class CAREamist extends CoreCAREamist {
  readonly workDir?: string;

  constructor(config: Configuration | unknown, options: NodeCAREamistOptions = {}) {
    const { workDir, onWarning, ...rest } = options;
    super(config, {
      runtime: rest.runtime ?? nodeRuntime(),
      store: rest.store ?? (workDir ? new FolderStore(workDir) : undefined),
      callbacks: rest.callbacks,
      device: rest.device,
      onWarning: onWarning ?? emitWarning,
      readFile: rest.readFile ?? ((path) => readFile(path)),
    });
    this.workDir = workDir;
  }

  /** The warning callback the core holds (the constructor always gives it one). */
  private get warn(): (message: string) => void {
    return this.options.onWarning ?? emitWarning;
  }

  /**
   * Loads a trained model from a work directory (its last checkpoint), a `.safetensors` checkpoint or a CAREamics
   * Lightning `.ckpt` (then `train(data, { resume: true })` continues that run into `workDir`), a BMZ package
   * carrying CAREamics' state dict and careamics.yaml, or starts an untrained one from a config YAML. ONNX-only
   * packages and ONNX files predict only: see `loadModel`.
   */
  static async load(path: string, options: NodeCAREamistOptions = {}): Promise<CAREamist> {
    const info = await stat(path).catch((cause) => {
      throw new CAREamistError(`${path}: no such file or directory`, { cause });
    });
    const file = info.isDirectory() ? join(path, RUN_FILES.lastCheckpoint) : path;
    const kind = modelFileKind(file);
    if (kind === 'onnx') {
      throw new CAREamistError(`${path}: an ONNX model predicts only; open it with loadModel()`);
    }
    const bytes = await readFile(file).catch((cause) => {
      throw new CAREamistError(`${file}: cannot read the checkpoint (${(cause as Error).message})`, {
        cause,
      });
    });
    if (kind === 'bmz') {
      const bmz = await importBmz(new Uint8Array(bytes), path);
      if (!isTrainablePackage(bmz))
        throw new CAREamistError(
          `${path}: a BMZ package without CAREamics' state dict and careamics.yaml predicts only; open it with loadModel()`,
        );
      return CAREamist.fromBmz(bmz, { ...options, runtime: options.runtime ?? nodeRuntime() });
    }
    if (kind === 'config') {
      return new CAREamist(loadConfigYaml(bytes.toString('utf8')).config, options);
    }
    const checkpoint = new Uint8Array(bytes);
    const careamist = new CAREamist(options.config ?? checkpointConfiguration(checkpoint, file), {
      workDir: info.isDirectory() ? path : undefined,
      ...options,
    });
    await careamist.restore(checkpoint, file);
    return careamist;
  }

  /** Trains on files, folders or ImageSources. */
  override async train(data: NodeTrainingData | TrainingData, options: TrainOptions = {}) {
    const { axes, data_type: dataType } = this.config.data_config;
    const targetAxes = this.config.data_config.target_axes ?? axes;
    const open = (input: PathOrSources | undefined, a: string) =>
      input === undefined ? undefined : openSources(input, a, dataType, this.warn);
    return super.train(
      {
        trainSource: (await open(data.trainSource, axes))!,
        trainTarget: await open(data.trainTarget, targetAxes),
        valSource: await open(data.valSource, axes),
        valTarget: await open(data.valTarget, targetAxes),
      },
      { memoryBudgetBytes: defaultTrainingBudget(), ...options },
    );
  }

  /** Predicts a file (or an ImageSource / array); `axes` overrides the configuration's for files. */
  override async predict(
    source: string | ImageSource | AxesArray,
    settings: FilePredictionSettings = {},
  ): Promise<AxesArray> {
    const { axes, ...rest } = settings;
    const input = typeof source === 'string' ? await openImage(source, { axes: axes ?? this.axes }) : source;
    return super.predict(input, withMemoryBudget(rest));
  }

  /**
   * Predicts `source` (an image, or every image of a folder by the configuration's data type) into `output`
   * (.tif/.tiff/.npy/.png, .zarr streamed region by region, or a folder). Written atomically; never over the input.
   */
  async predictToDisk(
    source: string | ImageSource,
    output: string,
    settings: FilePredictionSettings = {},
  ): Promise<void> {
    if (typeof source === 'string' && (await isImageFolder(source))) {
      await this.predictFolder(source, output, settings);
      return;
    }
    await predictToDisk(this, source, output, settings);
  }

  /**
   * A BioImage Model Zoo package of the trained model, tested, then written atomically to `path` (.zip). A test
   * image given as a path opens with the training axes.
   */
  async exportBmzFile(
    path: string,
    details: Omit<BmzExportDetails, 'input'> & { input?: string | BmzExportDetails['input'] },
  ): Promise<Uint8Array> {
    const { input } = details;
    const zip = await this.exportBmz({
      ...details,
      input: typeof input === 'string' ? await openImage(input, { axes: this.axes }) : input,
    });
    await writeFileAtomic(path, [zip]);
    return zip;
  }

  /** Every image of `folder` (by the configuration's data type) into `outputFolder`, file names kept (.npy, .png → .tif). */
  private async predictFolder(
    folder: string,
    outputFolder: string,
    settings: FilePredictionSettings,
  ): Promise<void> {
    const files = await folderImages(folder, this.config.data_config.data_type, this.warn);
    await mkdir(outputFolder, { recursive: true });
    for (const file of files) {
      const target = join(outputFolder, basename(file).replace(/\.(npy|png)$/i, '.tif'));
      await predictToDisk(this, file, target, settings);
    }
  }
}

/**
 * Predicts one image into `output`: .zarr is streamed region by region (bounded memory), other formats are
 * predicted in memory and written atomically. The output never overwrites the input.
 */
export async function predictToDisk(
  model: TiledModel,
  source: string | ImageSource,
  output: string,
  settings: FilePredictionSettings = {},
): Promise<{ axes: string; shape: number[] }> {
  if (typeof source === 'string' && resolve(source) === resolve(output)) {
    throw new CAREamistError(`${output}: the output would overwrite the input`);
  }
  const { axes, ...rest } = settings;
  const trainingAxes = axes ?? model.axes;
  const input =
    typeof source === 'string'
      ? await openImage(source, trainingAxes === undefined ? {} : { axes: trainingAxes })
      : source;
  const options = withMemoryBudget(rest);
  if (output.endsWith('.zarr')) {
    const layout = outputLayout(input.axes, [...input.shape], model.facts.outChannels);
    const dtype = options.outputDtype === 'input' ? input.dtype : 'float32';
    const writer = await createImageWriter(output, { shape: layout.shape, dtype, axes: layout.axes });
    await model.predictToWriter(input, writer, options);
    return layout;
  }
  const result = await model.predict(input, options);
  await writeImage(output, result, { axes: result.axes });
  return result;
}

/** What a path holds: a trained run, a model file, a configuration, or (anything else) an image. */
export type PathKind = 'run' | 'checkpoint' | 'onnx' | 'bmz' | 'config' | 'image';

/** Classifies a path by what is on disk: folders by their content, files by extension. */
export async function pathKind(path: string): Promise<PathKind> {
  const info = await stat(path).catch((cause) => {
    throw new CAREamistError(`${path}: no such file or directory`, { cause });
  });
  if (info.isDirectory()) {
    if (isZarrPath(path)) return 'image';
    if (await stat(join(path, RUN_FILES.lastCheckpoint)).catch(() => undefined)) return 'run';
    throw new CAREamistError(
      `${path}: a folder without ${RUN_FILES.lastCheckpoint} (not a trained work dir; train into it first)`,
    );
  }
  return modelFileKind(path) ?? 'image';
}

/**
 * Any model on disk, ready to predict: a work dir, a checkpoint or a BMZ zip carrying CAREamics' state dict and
 * careamics.yaml (a `CAREamist`), an ONNX-only BMZ zip (or any, with `frozen`) or an ONNX file (a `FrozenModel`;
 * ONNX needs `normalization`). Runs on onnxruntime-node unless `runtime` is given.
 */
export async function loadModel(
  path: string,
  options: Partial<LoadModelOptions> = {},
): Promise<CAREamist | FrozenModel> {
  const kind = await pathKind(path);
  if (kind === 'image') {
    throw new CAREamistError(
      `${path}: not a model; give a work dir, a .safetensors or .ckpt checkpoint, an .onnx file or a BMZ .zip`,
    );
  }
  const runtime = options.runtime ?? nodeRuntime();
  if (kind === 'run' || kind === 'checkpoint') {
    refuseStatisticsUnlessOnnx('checkpoint', path, options);
    refuseFrozenUnlessBmz('checkpoint', path, options);
    return requireStatistics(await CAREamist.load(path, { ...options, runtime }), path);
  }
  if (kind === 'bmz') {
    refuseStatisticsUnlessOnnx('bmz', path, options);
    const bmz = await importBmz(new Uint8Array(await readFile(path)), path);
    // A trainable package becomes the Node CAREamist (work dir and paths), as checkpoints do.
    const loaded = await loadBmzPackage(bmz, { ...options, runtime }, (b, o) => CAREamist.fromBmz(b, o));
    return loaded as CAREamist | FrozenModel;
  }
  // Checkpoints and packages were opened above; what is left (a bare ONNX graph) predicts only.
  const loaded = await loadModelBytes(new Uint8Array(await readFile(path)), path, { ...options, runtime });
  return loaded as FrozenModel;
}

/**
 * Automatic tiles get half the free memory, at most 1 GiB, unless the caller sets a budget: larger tiles are not
 * faster (bench:predict: 552² tiles on a 2048² image cost 1.05× one untiled pass) and would crowd out the rest.
 */
const MAX_AUTOMATIC_BUDGET = 1024 ** 3;
function withMemoryBudget(settings: PredictionSettings): PredictionSettings {
  return { memoryBudgetBytes: Math.min(freemem() / 2, MAX_AUTOMATIC_BUDGET), ...settings };
}
