/**
 * onnxruntime-node as the engine's runtime (the browser-safe engine never imports it), on the CPU or, through
 * its built-in WebGPU provider (Dawn), on any GPU the Vulkan, Metal or D3D12 driver offers.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { noAdapterError, probeNchwcBlock, probeRuntime } from './device.js';
import { type Device, type DeviceInfo, defaultSessionOptions, type Runtime } from './runtime.js';

/** The blocked-kernel probe runs once per process: the block is the CPU's (8 on AVX2, 16 on AVX-512). */
let nchwcBlock: Promise<number | undefined> | undefined;

/**
 * onnxruntime-node on the CPU, with the session options measured best for training and its blocked conv kernels;
 * `withDevice` moves it.
 */
export function nodeRuntime(threads = availableParallelism()): Runtime {
  const runtime: Runtime = {
    name: 'onnxruntime-node',
    ort: ort as unknown as Runtime['ort'],
    sessionOptions: defaultSessionOptions(threads),
    device: { name: 'cpu', adapter: `${threads} CPU thread${threads === 1 ? '' : 's'}` },
    withDevice: (device) => nodeRuntimeOn(device, threads),
    nchwcBlock: () => (nchwcBlock ??= probeNchwcBlock(runtime)),
  };
  return runtime;
}

/** onnxruntime-node on `device`; `webgpu` with no adapter fails with one line (and `--device cpu` works). */
export async function nodeRuntimeOn(device: Device, threads = availableParallelism()): Promise<Runtime> {
  if (device === 'cpu') return nodeRuntime(threads);
  const adapter = describeAdapter();
  if (device === 'auto' && (adapter === undefined || adapter.software)) return nodeRuntime(threads);
  if (adapter === undefined && process.platform === 'linux') {
    // Asking Dawn anyway would print its own multi-line Vulkan warnings before failing.
    throw noAdapterError('no GPU on the PCI bus, and no Vulkan driver named in VK_ICD_FILENAMES');
  }
  const runtime: Runtime = {
    ...nodeRuntime(threads),
    sessionOptions: { ...defaultSessionOptions(threads), executionProviders: ['webgpu'] },
    // The blocked kernels are the CPU provider's; graphs for the GPU stay standard ONNX.
    nchwcBlock: undefined,
    device: adapter ?? { name: 'webgpu', adapter: 'unknown adapter' },
    fallback: {
      name: 'the CPU',
      sessionOptions: defaultSessionOptions(threads),
      warn: (message) => console.warn(`careamics-js: warning: ${message}`),
    },
  };
  try {
    await probeRuntime(runtime);
  } catch (cause) {
    if (device === 'auto') return nodeRuntime(threads);
    const reason = (cause as Error).message.match(
      /Failed to get a WebGPU adapter[^\n)]*|No supported adapters/,
    )?.[0];
    throw noAdapterError(reason ?? (cause as Error).message.split('\n')[0]!, cause);
  }
  return runtime;
}

/** Software Vulkan drivers a user may point the loader at; they emulate a GPU on the CPU. */
const SOFTWARE_VULKAN = /swiftshader|lvp_icd|lavapipe|llvmpipe/i;
const VULKAN_DRIVER_VARIABLES = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES'];
/** PCI vendor ids of GPU makers. */
const GPU_VENDORS: Record<string, string> = {
  '0x10de': 'NVIDIA',
  '0x1002': 'AMD',
  '0x8086': 'Intel',
  '0x5143': 'Qualcomm',
  '0x13b5': 'ARM',
  '0x106b': 'Apple',
  '0x1ed5': 'Moore Threads',
};

/**
 * The adapter Dawn will most likely use, from what the system shows: onnxruntime-node reports no adapter
 * information itself. `undefined` where no GPU is visible (a probe session decides for `webgpu`).
 */
export function describeAdapter(env: NodeJS.ProcessEnv = process.env): DeviceInfo | undefined {
  const forced = VULKAN_DRIVER_VARIABLES.map((name) => env[name] ?? '').find((v) => SOFTWARE_VULKAN.test(v));
  if (forced) {
    const driver = SOFTWARE_VULKAN.exec(forced)![0].toLowerCase();
    const name = driver === 'swiftshader' ? 'google swiftshader' : `mesa ${driver}`;
    return { name: 'webgpu', adapter: `${name} (software Vulkan driver ${forced})`, software: true };
  }
  if (process.platform === 'darwin') return { name: 'webgpu', adapter: 'Apple GPU (Metal)' };
  if (process.platform === 'win32') return { name: 'webgpu', adapter: 'D3D12 adapter' };
  const gpus = linuxGpus();
  return gpus.length === 0 ? undefined : { name: 'webgpu', adapter: `${gpus.join(', ')} (Vulkan)` };
}

/** Display-class PCI devices of GPU makers (what ORT's own device discovery scans on Linux). */
function linuxGpus(): string[] {
  const root = '/sys/bus/pci/devices';
  if (!existsSync(root)) return [];
  const found: string[] = [];
  for (const device of readdirSync(root)) {
    try {
      const deviceClass = readFileSync(`${root}/${device}/class`, 'utf8').trim();
      const vendor = GPU_VENDORS[readFileSync(`${root}/${device}/vendor`, 'utf8').trim()];
      if (deviceClass.startsWith('0x03') && vendor) found.push(`${vendor} GPU at PCI ${device}`);
    } catch {
      // A device that vanished or cannot be read is not a GPU we can use.
    }
  }
  return found;
}
