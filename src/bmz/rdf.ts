/**
 * The model description (`rdf.yaml`, bioimage.io format 0.5) careamics-js writes: the fields of CAREamics'
 * `create_model_description`, with ONNX weights next to (or instead of) CAREamics' PyTorch state dict.
 */

import type { UNetConfig } from '../config/index.js';
import { type Configuration, resolveOptimizer, resolveTrainerParams } from '../config/index.js';
import { receptiveRadius, unetHalo } from '../models/index.js';
import { BMZ_EPS, type ProcessingStep } from './processing.js';

export { receptiveRadius, unetHalo };

import type { AlgorithmFacts } from './references.js';

/** The newest 0.5 patch version, the only one the official JSON schema accepts. */
export const FORMAT_VERSION = '0.5.7';
export const ONNX_OPSET = 17;
export const INPUT_ID = 'input';
export const OUTPUT_ID = 'output';

/** Package file names, as CAREamics names them (weights aside). */
export const FILES = {
  rdf: 'rdf.yaml',
  weights: 'weights.onnx',
  inputs: 'inputs.npy',
  outputs: 'outputs.npy',
  cover: 'cover.png',
  readme: 'README.md',
  config: 'careamics.yaml',
  stateDict: 'weights.pth',
  environment: 'environment.yml',
} as const;

/** Where CAREamics' UNet is imported from, as CAREamics' export names it in `weights.pytorch_state_dict`. */
export const CAREAMICS_UNET = { callable: 'UNet', import_from: 'careamics.models.unet' } as const;
/** The oldest PyTorch CAREamics supports; the state dict file itself loads in any PyTorch since 1.6. */
export const PYTORCH_VERSION = '2.1';

/** The environment CAREamics' UNet runs in, as CAREamics' `environment.yml` (unpinned: no PyTorch here). */
export const ENVIRONMENT_YAML =
  'name: careamics\ndependencies:\n  - python=3.12\n  - pip\n  - pip:\n    - careamics\n';

export interface BmzAuthor {
  name: string;
  affiliation?: string;
  email?: string;
  orcid?: string;
  github_user?: string;
}

/** Per-channel statistics: the input is (x - mean) / (std + 1e-6); the output is y · (std + 1e-6) + mean. */
export interface BmzNormalization {
  means: number[];
  stds: number[];
  /** Statistics to denormalize the output with; default: the input's (N2V, where outputs are inputs). */
  targetMeans?: number[];
  targetStds?: number[];
}

/** Smallest multiple of 2**depth that leaves at least one pixel once the halo is cropped from both sides. */
export function minimumSize(a: Pick<UNetConfig, 'depth' | 'n2v2'>): number {
  const step = 2 ** a.depth;
  return step * (Math.floor((2 * unetHalo(a)) / step) + 1);
}

export function preprocessing(n: BmzNormalization): ProcessingStep[] {
  return [
    { id: 'ensure_dtype', kwargs: { dtype: 'float32' } },
    { id: 'fixed_zero_mean_unit_variance', kwargs: { axis: 'channel', mean: n.means, std: n.stds } },
  ];
}

/** The inverse of CAREamics' normalization, exactly: y · (std + eps) + mean per channel. */
export function postprocessing(n: BmzNormalization): ProcessingStep[] {
  const stds = n.targetStds ?? n.stds;
  return [
    {
      id: 'scale_linear',
      kwargs: { axis: 'channel', gain: stds.map((s) => s + BMZ_EPS), offset: n.targetMeans ?? n.means },
    },
    { id: 'ensure_dtype', kwargs: { dtype: 'float32' } },
  ];
}

export interface FileRef {
  source: string;
  sha256: string;
}

export interface RdfParts {
  name: string;
  description: string;
  authors: BmzAuthor[];
  license: string;
  version: string;
  timestamp: Date;
  facts: AlgorithmFacts;
  config: Configuration;
  architecture: UNetConfig;
  normalization: BmzNormalization;
  channelNames: { input: string[]; output: string[] };
  files: {
    weights: FileRef;
    inputs: FileRef;
    outputs: FileRef;
    config: FileRef;
    /** CAREamics' UNet state dict and its environment, when the package has them. */
    stateDict?: { weights: FileRef; environment: FileRef };
  };
  /** Largest value of the test output: bounds the absolute tolerance (bioimage.io: at most 1% of it). */
  outputMax: number;
}

const spatialIds = (a: UNetConfig) => (a.conv_dims === 3 ? ['z', 'y', 'x'] : ['y', 'x']);

function trainingDetails(config: Configuration) {
  const alg = config.algorithm_config;
  const trainer = resolveTrainerParams(config.training_config);
  return {
    training_preprocessing: `${config.data_config.normalization.name} normalization; augmentations: ${
      config.data_config.augmentations.map((t) => t.name).join(', ') || 'none'
    }`,
    ...(trainer.max_epochs > 0 ? { training_epochs: trainer.max_epochs } : {}),
    training_batch_size: config.data_config.batch_size,
    initial_learning_rate: resolveOptimizer(alg.optimizer).lr,
    learning_rate_schedule: alg.lr_scheduler.name,
    loss_function: alg.loss,
    optimizer: alg.optimizer.name,
  };
}

/**
 * The ONNX weights and, when given, CAREamics' UNet state dict with its architecture as CAREamics writes it
 * (`kwargs` = the model configuration); the state dict is then the parent the ONNX weights derive from.
 */
function weightsEntries(p: RdfParts): Record<string, unknown> {
  const onnx = { ...p.files.weights, opset_version: ONNX_OPSET, authors: p.authors };
  const torch = p.files.stateDict;
  if (!torch) return { onnx };
  return {
    onnx: { ...onnx, parent: 'pytorch_state_dict' },
    pytorch_state_dict: {
      ...torch.weights,
      architecture: { ...CAREAMICS_UNET, kwargs: { ...p.architecture } },
      pytorch_version: PYTORCH_VERSION,
      dependencies: torch.environment,
      authors: p.authors,
    },
  };
}

/** The model description as a plain object, ready for YAML. */
export function buildRdf(p: RdfParts): Record<string, unknown> {
  const a = p.architecture;
  const step = 2 ** a.depth;
  const halo = unetHalo(a);
  const min = minimumSize(a);
  const spatial = spatialIds(a);
  const absolute = p.outputMax > 0 ? Math.min(1e-3, 0.01 * p.outputMax) : 0;
  return {
    format_version: FORMAT_VERSION,
    type: 'model',
    name: p.name,
    description: p.description,
    version: p.version,
    timestamp: p.timestamp.toISOString().replace(/\.\d+Z$/, '+00:00'),
    authors: p.authors,
    cite: p.facts.cite,
    license: p.license,
    tags: p.facts.tags,
    documentation: FILES.readme,
    covers: [FILES.cover],
    attachments: [p.files.config],
    inputs: [
      {
        id: INPUT_ID,
        description: 'raw image (not normalized)',
        axes: [
          { type: 'batch' },
          { type: 'channel', channel_names: p.channelNames.input },
          ...spatial.map((id) => ({ type: 'space', id, size: { min, step } })),
        ],
        test_tensor: p.files.inputs,
        data: { type: 'float32' },
        preprocessing: preprocessing(p.normalization),
      },
    ],
    outputs: [
      {
        id: OUTPUT_ID,
        description: `${p.facts.name} prediction`,
        axes: [
          { type: 'batch' },
          { type: 'channel', channel_names: p.channelNames.output },
          ...spatial.map((id) => ({ type: 'space', id, halo, size: { tensor_id: INPUT_ID, axis_id: id } })),
        ],
        test_tensor: p.files.outputs,
        data: { type: 'float32' },
        postprocessing: postprocessing(p.normalization),
      },
    ],
    weights: weightsEntries(p),
    config: {
      bioimageio: {
        reproducibility_tolerance: [
          {
            relative_tolerance: 1e-3,
            absolute_tolerance: absolute,
            mismatched_elements_per_million: 100,
            output_ids: [OUTPUT_ID],
            weights_formats: ['onnx'],
          },
        ],
        architecture_type: 'UNet',
        task: 'denoising',
        training: trainingDetails(p.config),
      },
      careamics_js: { architecture: { ...a }, halo, algorithm: p.config.algorithm_config.algorithm },
    },
  };
}
