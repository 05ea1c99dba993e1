/**
 * `exportToBmz`: a BioImage Model Zoo package (zip) as CAREamics' `export_to_bmz` writes it, with ONNX weights
 * and, when given, CAREamics' UNet state dict.
 */
import { strToU8, zipSync } from 'fflate';
import { stringify } from 'yaml';
import type { UNetConfig } from '../config/index.js';
import { type Configuration, saveConfigYaml } from '../config/index.js';
import { toCanonicalOrder } from '../io/ndarray.js';
import { encodeNpy } from '../io/npy.js';
import { createCover } from './cover.js';
import { BmzError } from './errors.js';
import { sha256Hex } from './hash.js';
import {
  type BmzAuthor,
  type BmzNormalization,
  buildRdf,
  ENVIRONMENT_YAML,
  FILES,
  type FileRef,
  minimumSize,
  unetHalo,
} from './rdf.js';
import { buildReadme, type TrainingSummary } from './readme.js';
import { algorithmFacts } from './references.js';
import type { Tensor } from './types.js';

export interface ExportBmzOptions {
  /** The prediction graph (`model.exportOnnx()`): input `input` (B, C, [Z,] Y, X), output `output`. */
  onnx: Uint8Array;
  /**
   * CAREamics' UNet state dict as a `torch.save` file (`writeTorchStateDict`), so that CAREamics and
   * bioimage.io's PyTorch runtime load the package too.
   */
  pytorchStateDict?: Uint8Array;
  config: Configuration;
  architecture: UNetConfig;
  normalization: BmzNormalization;
  /** 5–128 characters: letters, digits, spaces and `_+-()`. */
  name: string;
  authors: BmzAuthor[];
  description: string;
  dataDescription?: string;
  /** Raw (not normalized) test image; `axes` from `SCZYX` (e.g. `YX`, `SYX`, `CZYX`), YX multiples of 2**depth. */
  inputArray: { data: Float32Array; shape: readonly number[]; axes: string };
  /** Runs the model on raw (B, C, [Z,] Y, X) input, normalization included; its result becomes `outputs.npy`. */
  predict: (input: Tensor) => Promise<Tensor>;
  trainingSummary?: TrainingSummary;
  /** SPDX identifier; default BSD-3-Clause (CAREamics'). */
  license?: string;
  /** Model version (SemVer); default 0.1.0. */
  version?: string;
  /** A PNG to use instead of the generated input | output cover. */
  cover?: Uint8Array;
  /** Channel names (identifiers); default `channel` or `channel_<i>`. */
  channelNames?: { input?: string[]; output?: string[] };
  timestamp?: Date;
}

const NAME_PATTERN = /^[A-Za-z0-9_+\- ()]{5,128}$/;

const invalid = (message: string) => new BmzError('InvalidInput', message);

const defaultChannelNames = (n: number) =>
  n === 1 ? ['channel'] : Array.from({ length: n }, (_, i) => `channel_${i}`);

/** The test image as (B, C, [Z,] Y, X), checked against the architecture. */
function canonicalInput(o: ExportBmzOptions): Tensor {
  const { data, shape, axes } = o.inputArray;
  const a = o.architecture;
  if (
    !/^[SCZYX]+$/.test(axes) ||
    new Set(axes).size !== axes.length ||
    !axes.includes('Y') ||
    !axes.includes('X')
  )
    throw invalid(`inputArray.axes must be distinct letters from SCZYX including Y and X, got "${axes}"`);
  if (shape.length !== axes.length || shape.reduce((x, y) => x * y, 1) !== data.length)
    throw invalid(`inputArray has ${data.length} values and shape [${shape}] for axes "${axes}"`);
  const canonical = toCanonicalOrder({ data, shape: [...shape] }, axes);
  const size = (axis: string) =>
    canonical.axes.includes(axis) ? canonical.array.shape[canonical.axes.indexOf(axis)] : 1;
  const spatial = (a.conv_dims === 3 ? ['Z', 'Y', 'X'] : ['Y', 'X']).map(size);
  if (a.conv_dims === 2 && canonical.axes.includes('Z'))
    throw invalid(`inputArray has a Z axis but the model is 2D (axes "${axes}")`);
  if (a.conv_dims === 3 && !canonical.axes.includes('Z'))
    throw invalid(`inputArray needs a Z axis for a 3D model (axes "${axes}")`);
  if (size('C') !== a.in_channels)
    throw invalid(`inputArray has ${size('C')} channel(s), the model takes ${a.in_channels}`);
  const step = 2 ** a.depth;
  const min = minimumSize(a);
  if (spatial.some((s) => s % step !== 0 || s < min))
    throw invalid(
      `inputArray spatial size [${spatial}] must be multiples of 2**depth=${step} and at least ${min} (halo ${unetHalo(a)})`,
    );
  return { data: Float32Array.from(canonical.array.data), shape: [size('S'), a.in_channels, ...spatial] };
}

function checkOptions(o: ExportBmzOptions): void {
  const a = o.architecture;
  if (!NAME_PATTERN.test(o.name))
    throw invalid(`name must be 5–128 letters, digits, spaces or _+-() characters, got "${o.name}"`);
  if (o.authors.length === 0) throw invalid('at least one author is required');
  const configured = o.config.algorithm_config.model;
  for (const key of ['conv_dims', 'depth', 'in_channels', 'num_classes', 'n2v2'] as const)
    if (configured[key] !== a[key])
      throw invalid(`architecture.${key} is ${a[key]} but the configuration says ${configured[key]}`);
  for (const [side, expected] of [
    ['input', a.in_channels],
    ['output', a.num_classes],
  ] as const) {
    const names = o.channelNames?.[side];
    if (names && (names.length !== expected || names.some((c) => c.length === 0)))
      throw invalid(`channelNames.${side} needs ${expected} non-empty name(s), got [${names}]`);
  }
  const n = o.normalization;
  const sizes: [string, number[] | undefined, number][] = [
    ['means', n.means, a.in_channels],
    ['stds', n.stds, a.in_channels],
    ['targetMeans', n.targetMeans ?? (a.num_classes === a.in_channels ? n.means : undefined), a.num_classes],
    ['targetStds', n.targetStds ?? (a.num_classes === a.in_channels ? n.stds : undefined), a.num_classes],
  ];
  for (const [field, values, expected] of sizes) {
    if (values === undefined || (values.length !== expected && values.length !== 1))
      throw invalid(
        `normalization.${field} needs ${expected} value(s) (one per channel), got ${values?.length ?? 'none'}`,
      );
    if (field.toLowerCase().includes('std') && values.some((s) => !(s >= 1e-6)))
      throw invalid(`normalization.${field} must be at least 1e-6, got [${values}]`);
  }
}

/** The configuration with the normalization statistics filled in, so that CAREamics can reload it. */
function withStatistics(config: Configuration, n: BmzNormalization): Configuration {
  const norm = config.data_config.normalization;
  if (norm.name !== 'mean_std') return config;
  const filled = {
    ...norm,
    input_means: n.means,
    input_stds: n.stds,
    ...(n.targetMeans && n.targetStds ? { target_means: n.targetMeans, target_stds: n.targetStds } : {}),
  };
  return { ...config, data_config: { ...config.data_config, normalization: filled } };
}

/** One statistic per channel: a single (global) value is repeated. */
const perChannel = (values: number[], n: number) =>
  values.length === 1 ? new Array(n).fill(values[0]) : values;

async function fileRef(source: string, bytes: Uint8Array): Promise<FileRef> {
  return { source, sha256: await sha256Hex(bytes) };
}

/**
 * Builds the package: runs `predict` on the test image, writes `rdf.yaml` (format 0.5), `weights.onnx` (and
 * `weights.pth` with `environment.yml` when a state dict is given), `inputs.npy`, `outputs.npy`, `cover.png`, `README.md` and `careamics.yaml`, and returns the zip bytes.
 * Throws `BmzError` (InvalidInput) for inputs that would make an invalid package.
 */
export async function exportToBmz(o: ExportBmzOptions): Promise<Uint8Array> {
  checkOptions(o);
  const a = o.architecture;
  const input = canonicalInput(o);
  // A copy, so a predict that normalizes in place cannot change inputs.npy.
  const output = await o.predict({ data: input.data.slice(), shape: input.shape });
  const expected = [input.shape[0], a.num_classes, ...input.shape.slice(2)];
  if (output.shape.join() !== expected.join() || output.data.length !== expected.reduce((x, y) => x * y, 1))
    throw invalid(`predict returned shape [${output.shape}], expected [${expected}]`);

  const config = withStatistics(o.config, o.normalization);
  const configYaml = saveConfigYaml(config);
  const facts = algorithmFacts(config);
  const step = 2 ** a.depth;
  const spatial = a.conv_dims === 3 ? 'Z, Y, X' : 'Y, X';
  const readme = buildReadme({
    facts,
    configYaml,
    dataDescription: o.dataDescription,
    trainingSummary: o.trainingSummary,
    sizeRule: `${spatial} each ${minimumSize(a)} + n·${step}`,
    halo: unetHalo(a),
  });

  const bytes: Record<string, Uint8Array> = {
    [FILES.weights]: o.onnx,
    [FILES.inputs]: encodeNpy({ data: input.data, shape: [...input.shape] }),
    [FILES.outputs]: encodeNpy({ data: Float32Array.from(output.data), shape: [...output.shape] }),
    [FILES.config]: strToU8(configYaml),
    [FILES.readme]: strToU8(readme),
    [FILES.cover]: o.cover ?? createCover(input, output),
  };
  if (o.pytorchStateDict) {
    bytes[FILES.stateDict] = o.pytorchStateDict;
    bytes[FILES.environment] = strToU8(ENVIRONMENT_YAML);
  }
  let outputMax = -Infinity;
  for (const v of output.data) if (v > outputMax) outputMax = v;
  const n = o.normalization;
  const normalization = {
    means: perChannel(n.means, a.in_channels),
    stds: perChannel(n.stds, a.in_channels),
    targetMeans: perChannel(n.targetMeans ?? n.means, a.num_classes),
    targetStds: perChannel(n.targetStds ?? n.stds, a.num_classes),
  };
  const rdf = buildRdf({
    name: o.name,
    description: o.description,
    authors: o.authors,
    license: o.license ?? 'BSD-3-Clause',
    version: o.version ?? '0.1.0',
    timestamp: o.timestamp ?? new Date(),
    facts,
    config,
    architecture: a,
    normalization,
    channelNames: {
      input: o.channelNames?.input ?? defaultChannelNames(a.in_channels),
      output: o.channelNames?.output ?? defaultChannelNames(a.num_classes),
    },
    files: {
      weights: await fileRef(FILES.weights, bytes[FILES.weights]),
      inputs: await fileRef(FILES.inputs, bytes[FILES.inputs]),
      outputs: await fileRef(FILES.outputs, bytes[FILES.outputs]),
      config: await fileRef(FILES.config, bytes[FILES.config]),
      ...(o.pytorchStateDict && {
        stateDict: {
          weights: await fileRef(FILES.stateDict, o.pytorchStateDict),
          environment: await fileRef(FILES.environment, bytes[FILES.environment]),
        },
      }),
    },
    outputMax,
  });
  bytes[FILES.rdf] = strToU8(stringify(rdf, { aliasDuplicateObjects: false, lineWidth: 0 }));
  return zipSync(bytes, { level: 6 });
}
