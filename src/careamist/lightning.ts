/**
 * CAREamics' Lightning checkpoints (`.ckpt`, or a `.pt`/`.pth` holding the same dict) as a configuration and
 * tensors named as careamics-js names them. CAREamics' UNet modules and ours share names
 * (`encoder.encoder_blocks.0.conv1.weight`); Lightning prefixes them with `model.` (see `stateDict.ts`).
 * Lightning's optimizer state is indexed by the order of the module's `parameters()`, which is the order of the
 * parameters in its state dict; it becomes `optimizer.<slot>.<name>` tensors, as our checkpoints name them.
 */
import { type Configuration, parseConfiguration, resolveOptimizer } from '../config/index.js';
import type { NamedTensor } from '../engine/index.js';
import { optimizerSlots } from '../models/index.js';
import { isTorchTensor, readTorchFile, toFloat32 } from '../torch/index.js';
import { fromCareamicsStateDict } from './stateDict.js';
import { CAREamistError } from './tiled.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** Files read as PyTorch files: Lightning checkpoints and `torch.save` dicts. */
export const isTorchCheckpointName = (name: string): boolean => /\.(ckpt|pt|pth)$/i.test(name);

/**
 * The configuration a CAREamics checkpoint carries: all of it in `hyper_parameters` (newer CAREamics), or the
 * algorithm there and the data configuration in `datamodule_hyper_parameters` (older). Statistics come with the
 * data configuration (`normalization`, or `image_means`/`image_stds` in older versions, read as legacy fields).
 */
function checkpointConfig(checkpoint: Record<string, unknown>, name: string): Configuration {
  const hyper = checkpoint.hyper_parameters;
  if (!isRecord(hyper) || !isRecord(hyper.algorithm_config)) {
    throw new CAREamistError(
      `${name}: no CAREamics configuration (hyper_parameters.algorithm_config); a bare state dict needs a configuration`,
    );
  }
  const datamodule = checkpoint.datamodule_hyper_parameters;
  const data = hyper.data_config ?? (isRecord(datamodule) ? datamodule.data_config : undefined);
  if (!isRecord(data)) {
    throw new CAREamistError(
      `${name}: no data configuration (hyper_parameters or datamodule_hyper_parameters)`,
    );
  }
  const stem = name.replace(/^.*[/\\]/, '').replace(/\.[^.]+$/, '');
  return parseConfiguration({
    ...(hyper.version === undefined ? {} : { version: hyper.version }),
    experiment_name: hyper.experiment_name ?? stem,
    algorithm_config: hyper.algorithm_config,
    data_config: data,
    training_config: hyper.training_config ?? {},
  }).config;
}

/** Where a Lightning run stopped: epochs completed and optimizer steps taken. */
export interface LightningProgress {
  /** Lightning's `epoch` (the 0-based epoch the checkpoint was saved in). */
  epoch: number;
  /** Epochs the fit loop processed: where training goes on. */
  epochsDone: number;
  globalStep: number;
}

/**
 * Lightning's counters. A checkpoint saved at an epoch's end has processed that epoch (`epoch` + 1); the fit
 * loop's progress says so, and says less for one saved mid-epoch (that epoch then runs again in full).
 */
function lightningProgress(checkpoint: Record<string, unknown>): LightningProgress {
  const epoch = Number(checkpoint.epoch ?? 0);
  const processed = at(checkpoint, 'loops', 'fit_loop', 'epoch_progress', 'current', 'processed');
  return {
    epoch,
    epochsDone: typeof processed === 'number' ? processed : epoch + 1,
    globalStep: Number(checkpoint.global_step ?? 0),
  };
}

/** `value[k1][k2]…` through dicts and lists, `undefined` where the path ends early. */
function at(value: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>(
    (v, k) => (isRecord(v) || Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined),
    value,
  );
}

/**
 * The first optimizer's state as `optimizer.<slot>.<name>` tensors and its step count, when it holds every slot
 * the configured optimizer keeps for every parameter, with the parameter's shape; else why not, in words.
 */
function optimizerTensors(
  checkpoint: Record<string, unknown>,
  config: Configuration,
  tensors: Record<string, NamedTensor>,
  parameters: string[],
): { tensors: Record<string, NamedTensor>; step: number } | { reason: string } {
  const optimizer = resolveOptimizer(config.algorithm_config.optimizer).name;
  const slots = optimizerSlots(optimizer);
  const state = at(checkpoint, 'optimizer_states', '0', 'state');
  if (!isRecord(state) || Object.keys(state).length === 0) return { reason: 'it has no optimizer state' };
  if (Object.keys(state).length !== parameters.length) {
    return {
      reason: `its optimizer state covers ${Object.keys(state).length} parameters, the model has ${parameters.length}`,
    };
  }
  const moments: Record<string, NamedTensor> = {};
  for (const [i, name] of parameters.entries()) {
    const entry = state[String(i)];
    for (const slot of slots) {
      const value = isRecord(entry) ? entry[slot] : undefined;
      if (!isTorchTensor(value)) {
        return {
          reason: `its optimizer state has no ${slot} (not the ${optimizer} the configuration names)`,
        };
      }
      if (value.shape.join() !== tensors[name]!.shape.join()) {
        return { reason: `its optimizer state for ${name} has shape [${value.shape}]` };
      }
      moments[`optimizer.${slot}.${name}`] = { shape: value.shape, data: toFloat32(value) };
    }
  }
  const step = at(state, '0', 'step');
  return { tensors: moments, step: isTorchTensor(step) ? toFloat32(step)[0]! : Number(step ?? 0) };
}

export interface LightningCheckpoint {
  config: Configuration;
  /** Parameters and buffers, and the optimizer state when it was carried. */
  tensors: Record<string, NamedTensor>;
  /** The optimizer's step count (0 when its state was not carried). */
  step: number;
  progress: LightningProgress;
  /** Why the optimizer state was not carried (the optimizer then starts fresh), if it was not. */
  freshOptimizer?: string;
}

/**
 * A CAREamics Lightning checkpoint's configuration (with statistics), model tensors, optimizer state and
 * progress.
 */
export function readLightningCheckpoint(bytes: Uint8Array, name: string): LightningCheckpoint {
  const checkpoint = readTorchFile(bytes, name);
  if (!isRecord(checkpoint) || !isRecord(checkpoint.state_dict)) {
    throw new CAREamistError(
      isRecord(checkpoint) && Object.values(checkpoint).every(isTorchTensor)
        ? `${name}: a bare state dict, without the configuration a CAREamics checkpoint carries (hyper_parameters)`
        : `${name}: not a Lightning checkpoint (no state_dict)`,
    );
  }
  const config = checkpointConfig(checkpoint, name);
  const tensors = fromCareamicsStateDict(checkpoint.state_dict, name);
  const parameters = Object.keys(tensors).filter((k) => !/\.running_(mean|var)$/.test(k));
  const optimizer = optimizerTensors(checkpoint, config, tensors, parameters);
  const progress = lightningProgress(checkpoint);
  if ('reason' in optimizer) return { config, tensors, step: 0, progress, freshOptimizer: optimizer.reason };
  return { config, tensors: { ...tensors, ...optimizer.tensors }, step: optimizer.step, progress };
}
