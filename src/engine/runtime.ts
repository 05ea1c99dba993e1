/**
 * The ONNX Runtime the engine runs on, injected so that core code never imports a platform package:
 * `onnxruntime-node` in Node (see `src/node.ts`), `onnxruntime-web` in the browser. Both expose this API.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';

export interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

export interface Runtime {
  ort: OrtModule;
  /** Session options applied to every session (threads, execution providers). */
  sessionOptions?: InferenceSession.SessionOptions;
  /** A short name for messages and benchmarks, e.g. 'onnxruntime-node'. */
  name: string;
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

/** Runs a session on float32 feeds and returns float32 outputs by name. */
export async function runSession(
  runtime: Runtime,
  session: InferenceSession,
  feeds: Record<string, { data: Float32Array; dims: readonly number[] }>,
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const ortFeeds: Record<string, OrtTensor> = {};
  for (const [name, { data, dims }] of Object.entries(feeds))
    ortFeeds[name] = new runtime.ort.Tensor('float32', data, dims);
  const results = await session.run(ortFeeds);
  const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
  for (const [name, t] of Object.entries(results)) out[name] = { data: t.data as Float32Array, dims: t.dims };
  return out;
}
