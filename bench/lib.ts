/** Shared pieces of the benchmarks: medians, the PyTorch worker, the runtime. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as ort from 'onnxruntime-node';
import { defaultSessionOptions, type Runtime } from '../src/engine/index.js';

export const PYTHON = '/usr/bin/python3';
export const THREADS = cpus().length;

export const nodeRuntime: Runtime = {
  name: 'onnxruntime-node',
  ort: ort as unknown as Runtime['ort'],
  sessionOptions: defaultSessionOptions(THREADS),
};

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
