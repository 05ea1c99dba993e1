/** Chooses ONNX Runtime's execution providers in the worker: WebGPU when it really works, else WebAssembly. */

import { defaultSessionOptions, type Runtime } from 'careamics-js';
import type * as Ort from 'onnxruntime-web';
import mjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';

export interface Backend {
  runtime: Runtime;
  /** What runs the graphs, for the page to show. */
  note: string;
}

type OrtModule = Runtime['ort'];
type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<{ requestDevice(): Promise<{ destroy(): void }> } | null> };
}

/** True when a WebGPU adapter and device can be obtained (an API without an adapter is common headless). */
async function webgpuWorks(): Promise<boolean> {
  const gpu = (navigator as GpuNavigator).gpu;
  if (!gpu) return false;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return false;
    (await adapter.requestDevice()).destroy();
    return true;
  } catch {
    return false;
  }
}

/** Resolves on a later task, after messages already queued (such as Stop) have been handled. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * ORT for the worker. (1) ORT's wasm `run` computes before its promise settles, so a training loop of awaited
 * runs never reaches the event loop and would not see Stop until the end: each run first yields one task.
 * (2) A graph WebGPU cannot load (a missing kernel) is loaded again on WebAssembly, and `onFallback` is told.
 */
export function workerOrt(ort: OrtModule, onFallback: (reason: string) => void): OrtModule {
  const load = async (
    model: Uint8Array,
    options?: Parameters<OrtModule['InferenceSession']['create']>[1],
  ) => {
    try {
      return await ort.InferenceSession.create(model, options);
    } catch (err) {
      if (!options?.executionProviders?.includes('webgpu')) throw err;
      onFallback(err instanceof Error ? err.message : String(err));
      return ort.InferenceSession.create(model, { ...options, executionProviders: ['wasm'] });
    }
  };
  return {
    Tensor: ort.Tensor,
    InferenceSession: {
      async create(model, options) {
        const session = await load(model, options);
        const run = session.run.bind(session) as (...args: unknown[]) => ReturnType<Session['run']>;
        const yielding = async (...args: unknown[]) => {
          await nextTask();
          return run(...args);
        };
        return Object.assign(session, { run: yielding as Session['run'] });
      },
    },
  };
}

export async function chooseBackend(
  ort: typeof Ort,
  preferWebGPU: boolean,
  onFallback: (note: string) => void,
): Promise<Backend> {
  const threads = crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = { wasm: wasmUrl, mjs: mjsUrl };
  const gpu = preferWebGPU && (await webgpuWorks());
  const wasmNote = `WebAssembly, ${threads > 1 ? `${threads} threads` : 'single-threaded (page is not cross-origin isolated)'}`;
  const note = gpu
    ? 'Using WebGPU, with WebAssembly for operators WebGPU lacks'
    : `WebGPU ${preferWebGPU ? 'not available' : 'off'}: using ${wasmNote}`;
  let warned = false;
  const fallback = (reason: string) => {
    if (warned) return;
    warned = true;
    onFallback(`WebGPU could not load a model graph (${reason.slice(0, 120)}): using ${wasmNote} for it`);
  };
  return {
    runtime: {
      name: 'onnxruntime-web',
      ort: workerOrt(ort as unknown as OrtModule, fallback),
      sessionOptions: { ...defaultSessionOptions(), executionProviders: gpu ? ['webgpu', 'wasm'] : ['wasm'] },
    },
    note,
  };
}
