/** What every command shares: the output streams, option parsers, config loading and Ctrl-C handling. */
import { readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError, Option } from 'commander';
import { axesProblem, ConfigError, loadConfigYaml } from '../config/index.js';
import { CAREamist, DEVICES, type Device, type FrozenModel, nodeRuntimeOn, type Runtime } from '../node.js';
import { CliError, configErrorLine, InterruptedError } from './errors.js';

/** A text stream: process.stdout/stderr, or a capture in tests. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
}

/** What a command's action receives besides its arguments. */
export interface CliContext {
  io: CliIo;
  /** Warnings on stderr, prefixed like errors. */
  warn(message: string): void;
}

export function createContext(io: CliIo): CliContext {
  return { io, warn: (message) => io.stderr.write(`careamics: warning: ${message}\n`) };
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  tib: 2 ** 40,
};

/** A size in bytes: `1GiB`, `512MiB`, `2GB`, `1.5G`, `1000000`. */
export function byteSize(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match && BYTE_UNITS[match[2]!.toLowerCase()];
  const bytes = match && unit ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!(bytes > 0)) throw new InvalidArgumentError('expected a size such as 1GiB, 512MiB or 2GB');
  return bytes;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

/** `--device`: where the graphs run. */
export function deviceOption(): Option {
  return new Option(
    '--device <device>',
    'cpu, webgpu (any GPU: Vulkan, Metal, D3D12) or auto (a GPU if there is one)',
  )
    .choices(DEVICES)
    .default('cpu');
}

/** The runtime for `--device`, found before anything is read or written; says on stderr what it runs on. */
export async function deviceRuntime(ctx: CliContext, device: Device): Promise<Runtime> {
  const runtime = await nodeRuntimeOn(device);
  const info = runtime.device!;
  ctx.io.stderr.write(`device: ${info.name} (${info.adapter})\n`);
  if (info.software) {
    ctx.warn('a software WebGPU adapter emulates a GPU on the CPU: correct, but slower than --device cpu');
  }
  return runtime;
}

/** A variadic option's parser: collects each value into a list. */
export function collect<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

/** Axes letters from STCZYX with Y and X adjacent, upper-cased. */
export function axesOption(value: string): string {
  const axes = value.toUpperCase();
  const problem = axesProblem(axes);
  if (problem) throw new InvalidArgumentError(`invalid axes "${axes}": ${problem}`);
  return axes;
}

export async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** Throws a one-line error naming each path that does not exist. */
export async function requireExisting(...paths: (string | undefined)[]): Promise<void> {
  for (const path of paths) {
    if (path !== undefined && !(await exists(path))) throw new CliError(`${path}: no such file or directory`);
  }
}

/** Reads and validates a configuration YAML; errors name the file and the field. */
export async function readConfig(path: string): Promise<ReturnType<typeof loadConfigYaml>> {
  const text = await readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new CliError(`${path}: ${cause.code === 'ENOENT' ? 'no such file' : cause.message}`, { cause });
  });
  try {
    return loadConfigYaml(text);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(configErrorLine(err, path), { cause: err });
    throw err;
  }
}

/**
 * Runs `task` with an AbortSignal that the first Ctrl-C fires; a second Ctrl-C exits at once. When the task
 * stops because of the signal, the error becomes an `InterruptedError` whose message `describe` gives.
 */
export async function withInterrupt<T>(
  ctx: CliContext,
  describe: () => string | Promise<string>,
  task: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    ctx.io.stderr.write('\ncareamics: stopping (Ctrl-C again to quit at once)…\n');
    controller.abort(new Error('interrupted by Ctrl-C'));
  };
  process.on('SIGINT', onSigint);
  try {
    return await task(controller.signal);
  } catch (err) {
    if (controller.signal.aborted) throw new InterruptedError(await describe());
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** What `loadModel` made of a model file, in words (the CLI's `predict` says it too). */
export function loadedAs(loaded: CAREamist | FrozenModel): string {
  if (loaded instanceof CAREamist) return "CAREamist, trainable (CAREamics' state dict and careamics.yaml)";
  return loaded.kind === 'bmz'
    ? "FrozenModel, predicts only (the package's ONNX weights and processing)"
    : 'FrozenModel, predicts only (ONNX graph)';
}
