/**
 * Where the graphs run: `cpu` (ONNX Runtime's CPU or WebAssembly provider), `webgpu` (any GPU vendor through
 * WebGPU: Vulkan, Metal, D3D12), or `auto` — a hardware WebGPU adapter when there is one, never a software one
 * (SwiftShader, lavapipe: those are asked for by name, as `webgpu`), else the CPU. Each platform's runtime knows
 * how to find adapters (`Runtime.withDevice`); this module holds what they share.
 */
import { add, apply, constant, input, toOnnx } from '../graph/index.js';
import { createSession, type Device, EngineError, type Runtime, runSession } from './runtime.js';

export const DEVICES = ['cpu', 'webgpu', 'auto'] as const satisfies readonly Device[];

/** The runtime for `device` (the runtime itself when no device is asked for). */
export async function onDevice(runtime: Runtime, device: Device | undefined): Promise<Runtime> {
  if (device === undefined || runtime.device?.name === device) return runtime;
  if (!runtime.withDevice) {
    throw new EngineError(
      `${runtime.name}: this runtime cannot choose a device; give a runtime for ${device}`,
    );
  }
  return runtime.withDevice(device);
}

/** Checks that `runtime` can run a graph at all (an adapter that exists, a device that answers): x + 1. */
export async function probeRuntime(runtime: Runtime): Promise<void> {
  const x = input('x', [4]);
  const bytes = toOnnx({
    name: 'probe',
    inputs: [x],
    outputs: { y: add(x, constant(new Float32Array([1]), [1])) },
  });
  // Without the fallback: the probe asks whether this device answers, not whether some device does.
  const session = await createSession({ ...runtime, fallback: undefined }, bytes, 'a probe graph');
  try {
    const { y } = await runSession(runtime, session, { x: { data: Float32Array.of(0, 1, 2, 3), dims: [4] } });
    if (y.data[3] !== 4)
      throw new EngineError(`${runtime.name}: the probe graph computed ${y.data[3]}, not 4`);
  } finally {
    await session.release();
  }
}

/** `--device webgpu` where no adapter answers: one line, naming what works instead. */
export function noAdapterError(reason: string, cause?: unknown): EngineError {
  return new EngineError(`no WebGPU adapter (${reason}); --device cpu works`, { cause });
}

/**
 * The channel block of the runtime's blocked CPU kernels (`graph/nchwc.ts`), or `undefined` when it has none:
 * four channels round-tripped through ReorderInput (which pads them to one block) and ReorderOutput.
 */
export async function probeNchwcBlock(runtime: Runtime): Promise<number | undefined> {
  const x = input('x', [1, 4, 1, 1]);
  const blocked = apply('NchwcReorderInput', [x]);
  const bytes = toOnnx({
    name: 'nchwc_probe',
    inputs: [x],
    outputs: { blocked, y: apply('NchwcReorderOutput', [blocked], { channels: 4 }) },
    // Its channels are the block, which is what the probe asks.
    dynamicDims: { blocked: { 1: 'block' } },
  });
  try {
    const session = await createSession({ ...runtime, fallback: undefined }, bytes, 'a probe graph');
    try {
      const data = Float32Array.of(1, 2, 3, 4);
      const out = await runSession(runtime, session, { x: { data, dims: [1, 4, 1, 1] } });
      const block = out.blocked.dims[1];
      return out.y.data.every((v, i) => v === data[i]) && block >= 4 ? block : undefined;
    } finally {
      await session.release();
    }
  } catch {
    return undefined;
  }
}
