/**
 * A model's state as named tensors and back: parameters and buffers under PyTorch's names
 * (`encoder.encoder_blocks.0.conv1.weight`), optimizer state under `optimizer.<slot>.<name>`. Checkpoints
 * (safetensors), CAREamics' state dict and BMZ packages all go through these two functions.
 */
import type { ModelDescription } from './graphs.js';
import { EngineError } from './runtime.js';
import type { NamedTensor } from './safetensors.js';

export interface ModelState {
  params: Float32Array;
  buffers: Float32Array;
  /** Optimizer state vectors by PyTorch name (`exp_avg`, `exp_avg_sq`, `momentum_buffer`). */
  slots: Record<string, Float32Array>;
  /** Optimizer steps taken. */
  step: number;
}

/** Parameters and buffers as views of the state, plus the optimizer slots when `withOptimizer`. */
export function stateTensors(
  description: ModelDescription,
  state: ModelState,
  withOptimizer: boolean,
): Record<string, NamedTensor> {
  const { parameterLayout, bufferLayout } = description;
  const tensors: Record<string, NamedTensor> = {};
  for (const e of parameterLayout.entries) {
    tensors[e.name] = { shape: e.shape, data: parameterLayout.view(state.params, e.name) };
  }
  for (const e of bufferLayout.entries) {
    tensors[e.name] = { shape: e.shape, data: bufferLayout.view(state.buffers, e.name) };
  }
  if (withOptimizer) {
    for (const e of parameterLayout.entries) {
      for (const [slot, data] of Object.entries(state.slots)) {
        tensors[`optimizer.${slot}.${e.name}`] = { shape: e.shape, data: parameterLayout.view(data, e.name) };
      }
    }
  }
  return tensors;
}

/**
 * A state from named tensors: every parameter and buffer must be there with the shape this architecture gives
 * it, and nothing else may be (optimizer slots are optional; missing ones start at zero).
 */
export function stateFromTensors(
  description: ModelDescription,
  tensors: Record<string, NamedTensor>,
  slotNames: readonly string[],
  source: string,
  step: number,
): ModelState {
  const { parameterLayout, bufferLayout } = description;
  const unused = new Set(Object.keys(tensors));
  const take = (name: string, target: Float32Array, shape: number[], required: boolean) => {
    const t = tensors[name];
    unused.delete(name);
    if (!t) {
      if (required) throw new EngineError(`${source}: missing tensor ${name}`);
      return;
    }
    if (
      t.shape.length !== shape.length ||
      t.shape.some((n, i) => n !== shape[i]) ||
      t.data.length !== target.length
    ) {
      throw new EngineError(`${source}: tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    target.set(t.data);
  };
  const params = new Float32Array(parameterLayout.size);
  const buffers = new Float32Array(bufferLayout.size);
  const slots = Object.fromEntries(slotNames.map((s) => [s, new Float32Array(params.length)]));
  for (const e of parameterLayout.entries) {
    take(e.name, parameterLayout.view(params, e.name), e.shape, true);
    for (const [slot, data] of Object.entries(slots)) {
      take(`optimizer.${slot}.${e.name}`, parameterLayout.view(data, e.name), e.shape, false);
    }
  }
  for (const e of bufferLayout.entries) take(e.name, bufferLayout.view(buffers, e.name), e.shape, true);
  const extra = [...unused].find((name) => !name.startsWith('optimizer.'));
  if (extra !== undefined) {
    throw new EngineError(`${source}: tensor ${extra} is not a parameter or buffer of this architecture`);
  }
  return { params, buffers, slots, step };
}
