import { spawnSync } from 'node:child_process';
import { createSession, runSession } from '../../src/engine/runtime.js';
import { input, type Tensor, toOnnx } from '../../src/graph/index.js';
import { nodeRuntime } from '../helpers/runtimes.js';

export const PYTHON = '/usr/bin/python3';
export const HAS_NUMPY = spawnSync(PYTHON, ['-c', 'import numpy']).status === 0;
export const HAS_TORCH = spawnSync(PYTHON, ['-c', 'import torch, numpy']).status === 0;

/** Runs `build(observation, signal)` as an ONNX graph on onnxruntime-node over flat float32 arrays. */
export async function runPixelGraph(
  build: (observation: Tensor, signal: Tensor) => Tensor,
  observation: Float32Array,
  signal: Float32Array,
): Promise<Float32Array> {
  const obs = input('observation', [observation.length]);
  const sig = input('signal', [signal.length]);
  const bytes = toOnnx({ name: 'noise_model_test', inputs: [obs, sig], outputs: { out: build(obs, sig) } });
  const session = await createSession(nodeRuntime, bytes, 'noise model test graph');
  const out = await runSession(nodeRuntime, session, {
    observation: { data: observation, dims: [observation.length] },
    signal: { data: signal, dims: [signal.length] },
  });
  await session.release();
  return out.out!.data;
}
