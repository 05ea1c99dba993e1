/**
 * The ONNX Runtime the engine runs on, injected so that core code never imports a platform package:
 * `onnxruntime-node` in Node (see `src/node.ts`), `onnxruntime-web` in the browser. Both expose this API.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { CareamicsError } from '../errors.js';

export class EngineError extends CareamicsError<'EngineError'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EngineError', message, options);
  }
}

export interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  Tensor: new (
    type: 'float32' | 'int64',
    data: Float32Array | BigInt64Array,
    dims: readonly number[],
  ) => OrtTensor;
}

/** Where graphs run: the CPU, a WebGPU adapter, or `auto` (a hardware adapter if there is one, else the CPU). */
export type Device = 'cpu' | 'webgpu' | 'auto';

/** What a runtime runs on, for messages and `trainer.json`. */
export interface DeviceInfo {
  name: 'cpu' | 'webgpu';
  /** The adapter: vendor and architecture where the platform says, e.g. `google swiftshader (software)`. */
  adapter: string;
  /** A software adapter (a CPU emulating a GPU): correct, slow; `auto` never picks one. */
  software?: boolean;
}

export interface Runtime {
  ort: OrtModule;
  /** Session options applied to every session (threads, execution providers). */
  sessionOptions?: InferenceSession.SessionOptions;
  /** A short name for messages and benchmarks, e.g. 'onnxruntime-node'. */
  name: string;
  /** What the sessions run on, when the runtime knows. */
  device?: DeviceInfo;
  /** The same ONNX Runtime on another device; fails with one line when that device has no adapter. */
  withDevice?(device: Device): Promise<Runtime>;
  /**
   * Where a graph goes that this device cannot load (a kernel a GPU provider lacks): never a dead end. `warn`
   * says so, once per graph.
   */
  fallback?: { name: string; sessionOptions: InferenceSession.SessionOptions; warn(message: string): void };
  /**
   * The channel block of ONNX Runtime's blocked CPU conv kernels, where this runtime's sessions run on its CPU
   * provider and it has them (probed once); `undefined` elsewhere. Training graphs then use those kernels.
   */
  nchwcBlock?: () => Promise<number | undefined>;
}

/** Defaults measured in the engine prototype: 'extended' optimisation is faster and leaner than 'all' for training. */
export function defaultSessionOptions(threads?: number): InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'extended',
    executionMode: 'sequential',
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  };
}

export type { InferenceSession, OrtTensor };

/**
 * The one place an ONNX Runtime session is created: the runtime's options, then `overrides`. A graph the runtime
 * cannot load becomes an `EngineError` naming the runtime and `source` (a file, or which graph it was).
 */
export async function createSession(
  runtime: Runtime,
  bytes: Uint8Array,
  source: string,
  overrides: InferenceSession.SessionOptions = {},
): Promise<InferenceSession> {
  const create = (options: InferenceSession.SessionOptions | undefined, keepOnDevice = true) => {
    const { preferredOutputLocation, ...rest } = overrides;
    return runtime.ort.InferenceSession.create(bytes, {
      ...options,
      ...rest,
      ...(keepOnDevice && preferredOutputLocation ? { preferredOutputLocation } : {}),
    });
  };
  const firstLine = (cause: unknown) => (cause as Error).message?.split('\n')[0] ?? String(cause);
  try {
    return await create(runtime.sessionOptions);
  } catch (cause) {
    const { fallback } = runtime;
    if (!fallback)
      throw new EngineError(`${source}: ${runtime.name} cannot load it (${firstLine(cause)})`, { cause });
    fallback.warn(
      `${source}: ${runtime.device?.name ?? runtime.name} cannot run it (${firstLine(cause)}); running it on ${fallback.name}`,
    );
    try {
      // The fallback keeps outputs in host memory: there is no device to keep them on.
      return await create(fallback.sessionOptions, false);
    } catch (again) {
      throw new EngineError(`${source}: ${runtime.name} cannot load it (${firstLine(again)})`, {
        cause: again,
      });
    }
  }
}

const ON_DEVICE = new Set<string>(['gpu-buffer', 'texture', 'ml-tensor']);

export type Feed = { data: Float32Array | BigInt64Array; dims: readonly number[] } | OrtTensor;

/**
 * Runs a session on float32 feeds (arrays, or tensors already on the device) and returns the outputs by name:
 * arrays, except outputs the session keeps on the device (`preferredOutputLocation`), which stay tensors.
 */
export async function runSessionOnDevice(
  runtime: Runtime,
  session: InferenceSession,
  feeds: Record<string, Feed>,
): Promise<Record<string, { data: Float32Array; dims: readonly number[] } | OrtTensor>> {
  const ortFeeds: Record<string, OrtTensor> = {};
  for (const [name, feed] of Object.entries(feeds)) {
    ortFeeds[name] = isOrtTensor(feed)
      ? feed
      : new runtime.ort.Tensor(
          feed.data instanceof BigInt64Array ? 'int64' : 'float32',
          feed.data,
          feed.dims,
        );
  }
  const results = await session.run(ortFeeds);
  const out: Record<string, { data: Float32Array; dims: readonly number[] } | OrtTensor> = {};
  for (const [name, t] of Object.entries(results)) {
    // Never read a device tensor's data here: onnxruntime-node aborts the process on it.
    out[name] = ON_DEVICE.has(t.location) ? t : { data: t.data as Float32Array, dims: t.dims };
  }
  return out;
}

/** Runs a session on float32 feeds and returns float32 outputs by name. */
export async function runSession(
  runtime: Runtime,
  session: InferenceSession,
  feeds: Record<string, Feed>,
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const out = await runSessionOnDevice(runtime, session, feeds);
  for (const [name, t] of Object.entries(out)) {
    if (isOrtTensor(t)) throw new EngineError(`output ${name} stayed on the device; use runSessionOnDevice`);
  }
  return out as Record<string, { data: Float32Array; dims: readonly number[] }>;
}

export function isOrtTensor(value: unknown): value is OrtTensor {
  return typeof value === 'object' && value !== null && 'location' in value && 'dispose' in value;
}
