/** Shared pieces of the benchmarks: medians, the PyTorch worker, the runtimes and the device flags. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEVICES, type Device, type Runtime } from '../src/engine/index.js';
import { nodeRuntime, nodeRuntimeOn } from '../src/engine/node.js';

export const PYTHON = '/usr/bin/python3';
export const THREADS = cpus().length;

/**
 * Session options to try on top of the engine's (`BENCH_SESSION_OPTIONS='{"graphOptimizationLevel":"all"}'`),
 * for measuring a setting before it becomes the default.
 */
const sessionOverrides = JSON.parse(process.env.BENCH_SESSION_OPTIONS ?? '{}');
const withOverrides = (runtime: Runtime): Runtime => ({
  ...runtime,
  sessionOptions: { ...runtime.sessionOptions, ...sessionOverrides },
});

/** onnxruntime-node's CPU execution provider: the default device and the reference for `speedupOverCpu`. */
export const cpuRuntime: Runtime = withOverrides(nodeRuntime(THREADS));

/** Flags every benchmark takes: `--device cpu|webgpu|auto` (default cpu) and `--quick` (tiny shapes, one round). */
export const DEVICE_FLAGS = {
  device: { type: 'string', default: 'cpu' },
  quick: { type: 'boolean', default: false },
} as const;

/**
 * onnxruntime-node on `device`. Without an adapter for `webgpu` this prints the engine's one-line reason and
 * exits, rather than a stack trace.
 */
export async function benchRuntime(device: string): Promise<Runtime> {
  if (!(DEVICES as readonly string[]).includes(device)) {
    console.error(`--device ${device}: expected one of ${DEVICES.join(', ')}`);
    process.exit(2);
  }
  try {
    return withOverrides(await nodeRuntimeOn(device as Device, THREADS));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}

/** The `device` and `adapter` fields of a summary: where the timed graphs ran. */
export function deviceFields(runtime: Runtime): { device: string; adapter: string } {
  return { device: runtime.device!.name, adapter: runtime.device!.adapter };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Peak resident memory of this process (VmHWM from /proc/self/status, Linux) in MiB. */
export function peakRssMiB(): number {
  const match = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+) kB/);
  if (!match) throw new Error('no VmHWM in /proc/self/status');
  return Number(match[1]) / 1024;
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export function hasTorch(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/**
 * glibc malloc tuned as PyTorch users tune it on CPU: no mmap/munmap churn for the large activation buffers.
 * PyTorch is ~1.7× faster this way, and that is the honest reference.
 */
const TUNED_MALLOC = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(4 * 1024 * 1024 * 1024),
  MALLOC_TOP_PAD_: String(256 * 1024 * 1024),
};

export interface TorchWorker {
  request<T>(message: Record<string, unknown>): Promise<T>;
  close(): void;
}

export async function startTorchWorker(): Promise<TorchWorker> {
  const child = spawn(PYTHON, [join(import.meta.dirname, 'torch', 'worker.py')], {
    env: { ...process.env, ...TUNED_MALLOC, THREADS: String(THREADS) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  await next();
  return {
    async request<T>(message: Record<string, unknown>) {
      const reply = next();
      child.stdin.write(`${JSON.stringify(message)}\n`);
      const parsed = JSON.parse(await reply);
      if (parsed.error) throw new Error(`PyTorch worker: ${parsed.error}`);
      return parsed as T;
    },
    close() {
      child.stdin.write('{"cmd": "quit"}\n');
      child.stdin.end();
    },
  };
}

/** Pause between blocks so one engine's threads are idle before the other starts. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

/** `rounds` rounds of every block in turn, each after a pause: the samples of each block, by its name. */
export async function interleave<K extends string>(
  rounds: number,
  blocks: Partial<Record<K, () => Promise<number[]>>>,
): Promise<Record<K, number[]>> {
  const entries = Object.entries(blocks) as [K, (() => Promise<number[]>) | undefined][];
  const samples = Object.fromEntries(entries.map(([name]) => [name, []])) as unknown as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (const [name, block] of entries) {
      if (!block) continue;
      await settle();
      samples[name].push(...(await block()));
    }
  }
  return samples;
}
