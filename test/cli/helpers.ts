import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/shared.js';
import { Rng } from '../../src/data/index.js';
import { writeImage } from '../../src/io/node/index.js';

/** A stream that keeps what is written. */
export function captureStream(isTTY = false): Output & { text: string } {
  return {
    text: '',
    isTTY,
    columns: 80,
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process with captured output. */
export async function cli(...argv: string[]): Promise<CliResult> {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await run(argv, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'careamics-cli-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A float32 YX image of seeded uniform noise, written with the io layer. */
export async function writeNoise(path: string, size = 128, seed = 1): Promise<Float32Array> {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: size * size }, () => 100 + 20 * rng.random());
  await mkdir(dirname(path), { recursive: true });
  await writeImage(path, { data, shape: [size, size] }, { axes: 'YX' });
  return data;
}

/** Every file and folder under `dir`, relative, sorted (to show nothing was left behind). */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

/** The error lines of a failed run: exactly one is expected. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('careamics: error:'));
}
