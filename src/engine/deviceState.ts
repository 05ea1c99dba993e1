/**
 * A model's state (parameters, batch-norm buffers, optimizer moments) kept in GPU memory between training
 * steps: a step uploads the batch and downloads the loss only. The state comes back to host memory when asked
 * (a checkpoint, a prediction graph), through one small copy graph.
 */
import type { InferenceSession } from 'onnxruntime-common';
import { identity, input, toOnnx } from '../graph/index.js';
import { createSession, isOrtTensor, type OrtTensor, type Runtime, runSession } from './runtime.js';

export class DeviceState {
  private tensors?: Record<string, OrtTensor>;
  private download?: { names: string; session: Promise<InferenceSession> };

  constructor(private readonly runtime: Runtime) {}

  /** Whether the latest state is in device memory (and host copies are stale until `read`). */
  get held(): boolean {
    return this.tensors !== undefined;
  }

  /** The session options that keep these outputs on the device (none where the device is the CPU). */
  keepOutputs(names: readonly string[]): InferenceSession.SessionOptions {
    if (this.runtime.device?.name !== 'webgpu') return {};
    return { preferredOutputLocation: Object.fromEntries(names.map((n) => [n, 'gpu-buffer' as const])) };
  }

  /** Feeds for the next run, by input name, where the state is on the device. */
  feeds(): Record<string, OrtTensor> {
    return this.tensors ?? {};
  }

  /**
   * Takes a run's state outputs (`<input>_out`): those left on the device are kept (and the previous tensors
   * released); returns the ones that came back to host memory.
   */
  take(
    outputs: Record<string, { data: Float32Array; dims: readonly number[] } | OrtTensor>,
    inputNames: readonly string[],
  ): Record<string, Float32Array> {
    const onDevice: Record<string, OrtTensor> = {};
    const onHost: Record<string, Float32Array> = {};
    for (const name of inputNames) {
      const out = outputs[`${name}_out`];
      if (out === undefined) continue;
      if (isOrtTensor(out)) onDevice[name] = out;
      else onHost[name] = out.data;
    }
    // Every run returns the whole state: what it left on the device replaces the previous device copy, and
    // an output that came back to the host must not be shadowed by an older device tensor of the same name.
    const previous = this.tensors;
    this.tensors = Object.keys(onDevice).length > 0 ? onDevice : undefined;
    for (const [name, tensor] of Object.entries(previous ?? {})) {
      if (this.tensors?.[name] !== tensor) tensor.dispose();
    }
    return onHost;
  }

  /** Copies the state to host memory; it stays on the device for further steps. */
  async read(): Promise<Record<string, Float32Array>> {
    if (!this.tensors) return {};
    const names = Object.keys(this.tensors).sort();
    if (this.download?.names !== names.join()) {
      const inputs = names.map((name) => input(name, [...this.tensors![name]!.dims]));
      const bytes = toOnnx({
        name: 'careamics_state_download',
        inputs,
        outputs: Object.fromEntries(inputs.map((t, i) => [`${names[i]}_host`, identity(t)])),
      });
      this.download = {
        names: names.join(),
        session: createSession(this.runtime, bytes, 'the state download'),
      };
    }
    const out = await runSession(this.runtime, await this.download.session, this.tensors);
    return Object.fromEntries(names.map((name) => [name, out[`${name}_host`]!.data]));
  }

  /** Forgets the device copy: the host state was replaced. */
  forget(): void {
    for (const tensor of Object.values(this.tensors ?? {})) tensor.dispose();
    this.tensors = undefined;
  }

  /** Forgets the device copy and releases the copy graph (the model is disposed). */
  async release(): Promise<void> {
    this.forget();
    const download = this.download;
    this.download = undefined;
    await (await download?.session)?.release();
  }
}
