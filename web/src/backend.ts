/**
 * Where the worker runs ONNX Runtime: a WebGPU adapter (`auto`: a hardware one; `webgpu`: any, software too) or
 * WebAssembly. ORT's native WebGPU provider (the `onnxruntime-web/webgpu` build, asyncify files) computes our
 * training graphs as WebAssembly does; the older JSEP provider (the default build) got them wrong.
 */

import { type Device, type DeviceInfo, defaultSessionOptions, type Runtime } from 'careamics-js';
import mjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type * as Ort from 'onnxruntime-web/webgpu';

export interface Backend {
  runtime: Runtime;
  /** What runs the graphs, for the page to show. */
  note: string;
}

type OrtModule = Runtime['ort'];
type SessionOptions = Parameters<OrtModule['InferenceSession']['create']>[1];
type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

/** `GPUAdapterInfo`, and `isFallbackAdapter` where the browser puts it there. */
export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

interface GpuAdapter {
  info?: AdapterInfo;
  /** Older browsers: on the adapter, and the info behind a promise. */
  isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<AdapterInfo>;
  requestDevice(): Promise<{ destroy(): void }>;
}

export interface Gpu {
  requestAdapter(): Promise<GpuAdapter | null>;
}

/** Adapters that emulate a GPU on the CPU, for browsers that do not flag them as fallback adapters. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|microsoft basic render/i;

/** An adapter as the page shows it, e.g. `google swiftshader (software)`. */
export function describeAdapter(info: AdapterInfo, isFallbackAdapter = false): DeviceInfo {
  const name =
    [info.vendor, info.architecture].filter(Boolean).join(' ') || info.description || 'unnamed adapter';
  const software =
    isFallbackAdapter ||
    info.isFallbackAdapter === true ||
    SOFTWARE_ADAPTER.test(`${name} ${info.description ?? ''}`);
  return { name: 'webgpu', adapter: software ? `${name} (software)` : name, software };
}

/**
 * The browser's default adapter, the one ORT's WebGPU provider asks for too (an adapter and a device that answer),
 * or why there is none (an API without an adapter is common headless).
 */
export async function findAdapter(gpu: Gpu | undefined): Promise<DeviceInfo | string> {
  if (!gpu) return 'this browser has no WebGPU';
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return 'the browser offers no adapter';
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
    (await adapter.requestDevice()).destroy();
    return describeAdapter(info, adapter.isFallbackAdapter);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The adapter to use for `device`, or why WebAssembly runs the graphs instead. */
export function pickAdapter(device: 'auto' | 'webgpu', found: DeviceInfo | string): DeviceInfo | string {
  if (typeof found === 'string') return `WebGPU unavailable: ${found}`;
  if (device === 'auto' && found.software)
    return `no hardware WebGPU adapter; the software one, ${found.adapter}, is used only when WebGPU is chosen`;
  return found;
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

function usesWebGPU(options: SessionOptions): boolean {
  return (options?.executionProviders ?? []).some(
    (provider) => (typeof provider === 'string' ? provider : provider.name) === 'webgpu',
  );
}

function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/**
 * ORT for the worker. (1) ORT's wasm `run` computes before its promise settles, so a training loop of awaited
 * runs never reaches the event loop and would not see Stop until the end: each run first yields one task.
 * (2) A graph WebGPU cannot load (a missing kernel), or whose first run fails there, runs on WebAssembly
 * instead, and `onFallback` is told why. Sessions take their state as inputs, so the failed run is simply rerun.
 */
export function workerOrt(ort: OrtModule, onFallback: (reason: string) => void): OrtModule {
  const onWasm = (options: SessionOptions): SessionOptions => ({ ...options, executionProviders: ['wasm'] });
  const load = async (model: Uint8Array, options: SessionOptions) => {
    try {
      return { session: await ort.InferenceSession.create(model, options), onGpu: usesWebGPU(options) };
    } catch (err) {
      if (!usesWebGPU(options)) throw err;
      onFallback(`could not load a model graph: ${reasonOf(err)}`);
      return { session: await ort.InferenceSession.create(model, onWasm(options)), onGpu: false };
    }
  };
  return {
    Tensor: ort.Tensor,
    InferenceSession: {
      async create(model, options) {
        const loaded = await load(model, options);
        let session = loaded.session;
        /** True until a WebGPU session's first run has been tried. */
        let untried = loaded.onGpu;
        const run = async (...args: unknown[]) => {
          await nextTask();
          const runOnce = () => (session.run as (...a: unknown[]) => ReturnType<Session['run']>)(...args);
          if (!untried) return runOnce();
          try {
            return await runOnce();
          } catch (err) {
            onFallback(`could not run a model graph: ${reasonOf(err)}`);
            // A session whose run failed may fail to release too; the rerun is what matters.
            await session.release().catch(() => {});
            session = await ort.InferenceSession.create(model, onWasm(options));
            return runOnce();
          } finally {
            untried = false;
          }
        };
        const wrapped = {
          get inputNames() {
            return session.inputNames;
          },
          get outputNames() {
            return session.outputNames;
          },
          run,
          release: () => session.release(),
        };
        return wrapped as unknown as Session;
      },
    },
  };
}

/** ORT's settings for `device` (fixed by its first session: one backend per worker). */
export async function chooseBackend(
  ort: typeof Ort,
  device: Device,
  onFallback: (note: string) => void,
): Promise<Backend> {
  const threads = crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = { wasm: wasmUrl, mjs: mjsUrl };
  const wasm = `WebAssembly, ${threads > 1 ? `${threads} threads` : 'single-threaded (page is not cross-origin isolated)'}`;
  const cpu: DeviceInfo = { name: 'cpu', adapter: wasm };
  let warned = false;
  const fallback = (reason: string) => {
    if (warned) return;
    warned = true;
    onFallback(`WebGPU ${reason.slice(0, 160)}: using ${wasm} for it`);
  };
  const runtime = (info: DeviceInfo, executionProviders: string[]): Backend['runtime'] => ({
    name: 'onnxruntime-web',
    ort: workerOrt(ort as unknown as OrtModule, fallback),
    sessionOptions: { ...defaultSessionOptions(), executionProviders },
    device: info,
  });
  if (device === 'cpu') return { runtime: runtime(cpu, ['wasm']), note: wasm };
  const gpu = pickAdapter(device, await findAdapter((navigator as { gpu?: Gpu }).gpu));
  if (typeof gpu === 'string') return { runtime: runtime(cpu, ['wasm']), note: `${wasm} (${gpu})` };
  return { runtime: runtime(gpu, ['webgpu', 'wasm']), note: `WebGPU: ${gpu.adapter}` };
}
