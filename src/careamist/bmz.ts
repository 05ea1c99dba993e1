/**
 * The BioImage Model Zoo package of a trained CAREamist, assembled once for every client (library, command
 * line, web app): ONNX weights and CAREamics' UNet state dict, test input from a real image (or noise with the
 * training statistics), every statistic (target ones too), the training summary, and bioimage.io's own test run
 * before the bytes are handed out.
 */
import {
  type BmzAuthor,
  BmzError,
  centredTestCrop,
  exportToBmz,
  type ImportedBmz,
  importBmz,
  minimumSize,
  normalizedPredict,
  testBmz,
} from '../bmz/index.js';
import type { Configuration, UNetConfig } from '../config/index.js';
import { Rng } from '../data/index.js';
import type { Model, NamedTensor, Runtime } from '../engine/index.js';
import { ArraySource } from '../io/memory.js';
import type { ImageSource } from '../io/types.js';
import type { AxesArray, Normalization } from '../prediction/index.js';
import { readTorchFile, writeTorchStateDict } from '../torch/index.js';
import { configuredStats, configWithStatistics } from '../training/index.js';
import { fromCareamicsStateDict, toCareamicsStateDict } from './stateDict.js';
import { CAREamistError } from './tiled.js';

export interface BmzExportDetails {
  /** 5–128 characters: letters, digits, spaces and `_+-()`. */
  name: string;
  authors: (string | BmzAuthor)[];
  /** One sentence; default from the algorithm. */
  description?: string;
  /** What the training data was. */
  dataDescription?: string;
  /**
   * The package's test image: its centred crop (a few hundred pixels) becomes `inputs.npy`. Default: noise with
   * the training statistics (and a cover to match).
   */
  input?: ImageSource | AxesArray;
  /** A PNG to use instead of the generated input | output cover. */
  cover?: Uint8Array;
  /** SPDX identifier; default BSD-3-Clause (CAREamics'). */
  license?: string;
  /** Model version (SemVer); default 0.1.0. */
  version?: string;
}

/** What a package is made of: the trained model, its configuration, statistics and losses. */
export interface TrainedModel {
  model: Model;
  runtime: Runtime;
  config: Configuration;
  normalization: Normalization;
  losses: { train_epoch: number[]; val_epoch: (number | null)[] };
}

export async function exportTrainedModelToBmz(
  { model, runtime, config, normalization: n, losses }: TrainedModel,
  details: BmzExportDetails,
): Promise<Uint8Array> {
  const { architecture } = model;
  const vals = losses.val_epoch.filter((v): v is number => v !== null);
  const zip = await exportToBmz({
    onnx: model.exportOnnx(),
    pytorchStateDict: writeTorchStateDict(toCareamicsStateDict(model)),
    config,
    architecture,
    normalization: { means: n.mean, stds: n.std, targetMeans: n.targetMean, targetStds: n.targetStd },
    name: details.name,
    authors: details.authors.map((a) => (typeof a === 'string' ? { name: a } : a)),
    description:
      details.description ??
      `${config.algorithm_config.algorithm.toUpperCase()} restoration trained with careamics-js`,
    dataDescription: details.dataDescription,
    inputArray:
      details.input === undefined
        ? syntheticTestImage(architecture, n)
        : await centredTestCrop(
            'read' in details.input
              ? details.input
              : new ArraySource(details.input, { axes: details.input.axes }),
            architecture,
          ),
    predict: normalizedPredict((x, shape) => model.predict(x, shape), n),
    trainingSummary: {
      epochs: losses.train_epoch.length,
      ...(losses.train_epoch.length > 0 && { final_train_loss: losses.train_epoch.at(-1)! }),
      ...(vals.length > 0 && { best_val_loss: Math.min(...vals) }),
    },
    license: details.license,
    version: details.version,
    cover: details.cover,
  });
  const test = await testBmz(await importBmz(zip, `${details.name}.zip`), runtime);
  if (!test.passed) {
    throw new BmzError(
      'TestFailed',
      `the BioImage Model Zoo package fails its own test (max |Δ| ${test.maxAbsDiff.toExponential(2)}, ${test.mismatched} values off)`,
    );
  }
  return zip;
}

/** Gaussian noise with the training statistics, the test image when none is given. */
function syntheticTestImage(a: UNetConfig, n: Normalization) {
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

/**
 * The configuration and weights of a package holding CAREamics' UNet state dict (`importBmz` gives
 * `careamicsStateDict`, ONNX weights or not): the configuration from its `careamics.yaml`, with the
 * statistics of the rdf's preprocessing where the configuration has none.
 */
export function readCareamicsPackage(bmz: ImportedBmz): {
  config: Configuration;
  tensors: Record<string, NamedTensor>;
} {
  if (!bmz.careamicsStateDict)
    throw new CAREamistError(
      `${bmz.source}: no CAREamics UNet state dict (pytorch_state_dict) to train from`,
    );
  if (!bmz.config)
    throw new CAREamistError(
      `${bmz.source}: CAREamics UNet weights without a valid careamics.yaml attachment; cannot rebuild the model`,
    );
  const stateDict = readTorchFile(bmz.careamicsStateDict, `${bmz.source}: pytorch_state_dict`);
  if (typeof stateDict !== 'object' || stateDict === null || Array.isArray(stateDict))
    throw new CAREamistError(`${bmz.source}: the pytorch_state_dict file is not a state dict`);
  const n = bmz.normalization;
  const config =
    configuredStats(bmz.config) || !n
      ? bmz.config
      : configWithStatistics(bmz.config, {
          input: { name: 'mean_std', means: n.means, stds: n.stds },
          ...(n.targetMeans && n.targetStds
            ? { target: { name: 'mean_std', means: n.targetMeans, stds: n.targetStds } }
            : {}),
        });
  return {
    config,
    tensors: fromCareamicsStateDict(
      stateDict as Record<string, unknown>,
      `${bmz.source}: pytorch_state_dict`,
    ),
  };
}
