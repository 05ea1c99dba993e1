/**
 * CAREamics' UNet state dict and careamics-js's tensors, both ways. The modules share names
 * (`encoder.encoder_blocks.0.conv1.weight`); CAREamics' Lightning module prefixes them with `model.`. Batch norm's
 * `num_batches_tracked` has no counterpart here: dropped on reading, written as the optimizer steps taken.
 * N2V2's MaxBlurPool `kernel` is a fixed buffer CAREamics registers as non-persistent; older checkpoints that
 * hold it load too.
 */
import type { Model, NamedTensor } from '../engine/index.js';
import { isTorchTensor, type StateDictTensor, toFloat32 } from '../torch/index.js';
import { CAREamistError } from './tiled.js';

/** Not ours to load: batch norm's step counter and MaxBlurPool's constant kernel. */
const DROPPED = /(\.num_batches_tracked|^encoder\.encoder_blocks\.\d+\.kernel)$/;

/** The model's tensors of a CAREamics state dict (Lightning's or the bare module's), float32. */
export function fromCareamicsStateDict(
  stateDict: Record<string, unknown>,
  name: string,
): Record<string, NamedTensor> {
  const tensors: Record<string, NamedTensor> = {};
  for (const [key, value] of Object.entries(stateDict)) {
    const param = key.replace(/^model\./, '');
    if (DROPPED.test(param)) continue;
    if (!isTorchTensor(value)) throw new CAREamistError(`${name}: state_dict entry ${key} is not a tensor`);
    tensors[param] = { shape: value.shape, data: toFloat32(value) };
  }
  return tensors;
}

/**
 * The state dict of CAREamics' UNet (`model.model.state_dict()`, what its BMZ export saves) for this model: its
 * parameters and buffers, and each batch norm's `num_batches_tracked`.
 */
export function toCareamicsStateDict(model: Model): Record<string, StateDictTensor> {
  const steps = BigInt64Array.of(BigInt(model.state.step));
  const stateDict: Record<string, StateDictTensor> = {};
  for (const [name, tensor] of Object.entries(model.weights())) {
    stateDict[name] = tensor;
    const norm = /^(.*)\.running_var$/.exec(name)?.[1];
    if (norm !== undefined) stateDict[`${norm}.num_batches_tracked`] = { shape: [], data: steps };
  }
  return stateDict;
}
