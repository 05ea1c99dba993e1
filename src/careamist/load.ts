/**
 * Any model file to a model that predicts, browser-safe (bytes in): a careamics-js or CAREamics Lightning
 * (`.ckpt`) checkpoint becomes a `CAREamist` (trainable further, exportable), as does a BioImage Model Zoo zip
 * carrying CAREamics' UNet state dict and careamics.yaml; a zip with only ONNX weights (or loaded `frozen`) or
 * a bare ONNX graph a `FrozenModel`.
 * `careamics-js/node` adds paths and work directories; the command line and the web app both come through here.
 */
import { type ImportedBmz, importBmz } from '../bmz/index.js';
import { onDevice } from '../engine/index.js';
import type { Normalization } from '../prediction/index.js';
import { CAREamist, type CAREamistOptions } from './careamist.js';
import { FrozenModel } from './frozen.js';
import { CAREamistError, type ModelKind } from './tiled.js';

export type LoadedModel = CAREamist | FrozenModel;

export interface LoadModelOptions extends CAREamistOptions {
  /** The training statistics of a bare ONNX file, which does not store them (checkpoints and packages do). */
  normalization?: Normalization;
  /**
   * BMZ packages: predict with the package's ONNX weights and processing even when it carries CAREamics' state
   * dict (bioimage.io's own test reproduces that exactly); default: such a package loads as a trainable CAREamist.
   */
  frozen?: boolean;
}

type Loader = (bytes: Uint8Array, name: string, options: LoadModelOptions) => Promise<LoadedModel>;

/** Model file formats by extension: one entry each (a new format is a new entry). */
const MODEL_FORMATS: Record<string, { kind: ModelKind | 'config'; load: Loader }> = {
  '.safetensors': { kind: 'checkpoint', load: loadCheckpoint },
  '.ckpt': { kind: 'checkpoint', load: loadCheckpoint },
  '.pt': { kind: 'checkpoint', load: loadCheckpoint },
  '.pth': { kind: 'checkpoint', load: loadCheckpoint },
  '.zip': { kind: 'bmz', load: loadBmz },
  '.onnx': { kind: 'onnx', load: loadOnnx },
  '.yaml': { kind: 'config', load: refuseConfiguration },
  '.yml': { kind: 'config', load: refuseConfiguration },
};

function formatOf(name: string) {
  const extension = /\.[^./\\]+$/.exec(name.toLowerCase())?.[0];
  return extension === undefined ? undefined : MODEL_FORMATS[extension];
}

/** What a file is by its name: a model of some kind, a configuration, or neither (`undefined`). */
export function modelFileKind(name: string): ModelKind | 'config' | undefined {
  return formatOf(name)?.kind;
}

/** Loads the model in `bytes`, a file called `name` (its extension says what it is). */
export async function loadModel(
  bytes: Uint8Array,
  name: string,
  options: LoadModelOptions,
): Promise<LoadedModel> {
  const format = formatOf(name);
  if (!format) {
    throw new CAREamistError(
      `${name}: not a model; give a work dir, a .safetensors or .ckpt checkpoint, an .onnx file or a BMZ .zip`,
    );
  }
  refuseStatisticsUnlessOnnx(format.kind, name, options);
  refuseFrozenUnlessBmz(format.kind, name, options);
  return format.load(bytes, name, options);
}

/** Only bare ONNX files need the training statistics from the caller; the other files carry them. */
export function refuseStatisticsUnlessOnnx(
  kind: ModelKind | 'config',
  name: string,
  options: Pick<LoadModelOptions, 'normalization'>,
): void {
  if (kind !== 'onnx' && options.normalization !== undefined) {
    throw new CAREamistError(
      `${name}: mean and std apply to .onnx models only; the others carry their statistics`,
    );
  }
}

/** Only BMZ packages can load either way; checkpoints are trainable and ONNX files frozen whatever is asked. */
export function refuseFrozenUnlessBmz(
  kind: ModelKind | 'config',
  name: string,
  options: Pick<LoadModelOptions, 'frozen'>,
): void {
  if (kind !== 'bmz' && options.frozen !== undefined) {
    throw new CAREamistError(`${name}: frozen applies to BMZ .zip packages only`);
  }
}

/** A loaded checkpoint must be able to predict: it was saved after training, with its statistics. */
export async function requireStatistics<T extends CAREamist>(careamist: T, name: string): Promise<T> {
  if (!careamist.normalization) {
    await careamist.dispose();
    throw new CAREamistError(`${name}: the checkpoint has no normalization statistics`);
  }
  return careamist;
}

async function loadCheckpoint(bytes: Uint8Array, name: string, options: LoadModelOptions) {
  return requireStatistics(await CAREamist.fromCheckpoint(bytes, options, name), name);
}

/** Whether a package can be rebuilt as a trainable CAREamist: CAREamics' UNet state dict and its careamics.yaml. */
export function isTrainablePackage(bmz: ImportedBmz): boolean {
  return bmz.careamicsStateDict !== undefined && bmz.config !== undefined;
}

/**
 * A package carrying CAREamics' UNet state dict and careamics.yaml (CAREamics' and careamics-js' exports) trains
 * further; one with only ONNX weights, or any package with `frozen`, predicts as packaged (its ONNX graph and
 * processing, which bioimage.io's test reproduces exactly). `trainable` builds the CAREamist (a subclass's).
 */
export async function loadBmzPackage(
  bmz: ImportedBmz,
  options: LoadModelOptions,
  trainable: (bmz: ImportedBmz, options: LoadModelOptions) => Promise<CAREamist> = (b, o) =>
    CAREamist.fromBmz(b, o),
): Promise<LoadedModel> {
  if (options.frozen && !bmz.onnx)
    throw new CAREamistError(
      `${bmz.source}: frozen needs ONNX weights; the package has only CAREamics' state dict`,
    );
  if (!options.frozen && (isTrainablePackage(bmz) || !bmz.onnx))
    return requireStatistics(await trainable(bmz, options), bmz.source);
  return FrozenModel.fromBmz(bmz, await onDevice(options.runtime, options.device));
}

async function loadBmz(bytes: Uint8Array, name: string, options: LoadModelOptions) {
  return loadBmzPackage(await importBmz(bytes, name), options);
}

async function loadOnnx(bytes: Uint8Array, name: string, options: LoadModelOptions) {
  if (!options.normalization) {
    throw new CAREamistError(
      `${name}: an .onnx model needs the training mean and std (normalization); checkpoints and BMZ zips carry them`,
    );
  }
  const runtime = await onDevice(options.runtime, options.device);
  return FrozenModel.fromOnnx(bytes, name, runtime, options.normalization);
}

async function refuseConfiguration(_bytes: Uint8Array, name: string): Promise<never> {
  throw new CAREamistError(`${name}: a configuration, not a trained model; train it first`);
}
