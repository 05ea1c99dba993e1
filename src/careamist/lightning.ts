/**
 * CAREamics' Lightning checkpoints (`.ckpt`, or a `.pt`/`.pth` holding the same dict) as a configuration and
 * tensors named as careamics-js names them. CAREamics' UNet modules and ours share names
 * (`encoder.encoder_blocks.0.conv1.weight`); Lightning prefixes them with `model.` (see `stateDict.ts`).
 */
import { type Configuration, parseConfiguration } from '../config/index.js';
import type { NamedTensor } from '../engine/index.js';
import { isTorchTensor, readTorchFile } from '../torch/index.js';
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

/** A CAREamics Lightning checkpoint's configuration (with statistics) and model tensors. */
export function readLightningCheckpoint(
  bytes: Uint8Array,
  name: string,
): { config: Configuration; tensors: Record<string, NamedTensor> } {
  const checkpoint = readTorchFile(bytes, name);
  if (!isRecord(checkpoint) || !isRecord(checkpoint.state_dict)) {
    throw new CAREamistError(
      isRecord(checkpoint) && Object.values(checkpoint).every(isTorchTensor)
        ? `${name}: a bare state dict, without the configuration a CAREamics checkpoint carries (hyper_parameters)`
        : `${name}: not a Lightning checkpoint (no state_dict)`,
    );
  }
  return {
    config: checkpointConfig(checkpoint, name),
    tensors: fromCareamicsStateDict(checkpoint.state_dict, name),
  };
}
