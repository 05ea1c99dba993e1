import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAREamist, createN2VConfig, openImage, writeImage } from '../../src/node.js';

export const BIN = fileURLToPath(new URL('../../bin/careamics.js', import.meta.url));

/** Whether Debian's `redis-server` is on the PATH (the queue tests skip with a message without it). */
export const HAS_REDIS = spawnSync('redis-server', ['--version']).status === 0;
if (!HAS_REDIS)
  console.warn('redis-server not found (apt-get install redis-server): skipping the queue tests');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway Redis on a free port, in its own folder, without persistence. */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'careamics-redis-'));
  const server = spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    server.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: async () => {
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A `careamics worker` process; `lines` collects its stdout, `waitFor` resolves when a line matches. */
export function startWorker(args: string[], env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'worker', ...args], {
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of waiters.filter((w) => w.pattern.test(stdout))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => stdout,
    errors: () => stderr,
    waitFor: (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        if (pattern.test(stdout)) resolve();
        else waiters.push({ pattern, resolve });
      }),
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A tiny N2V model trained for one epoch into `workDir`, and a 200×300 test image at `image`. */
export async function tinyModelAndImage(workDir: string, image: string): Promise<void> {
  const side = 96;
  const train = Float32Array.from({ length: side * side }, (_, i) => 100 + 20 * Math.sin(i * 0.37) + (i % 7));
  const trainPath = join(workDir, '..', 'train.tif');
  await writeImage(trainPath, { data: train, shape: [side, side] }, { axes: 'YX' });
  const config = createN2VConfig({
    experimentName: 'tiny',
    dataType: 'tiff',
    axes: 'YX',
    patchSize: [32, 32],
    batchSize: 4,
    numEpochs: 1,
    seed: 3,
  });
  const careamist = new CAREamist(config, { workDir });
  await careamist.train({ trainSource: trainPath });
  const data = Float32Array.from({ length: 200 * 300 }, (_, i) => 100 + 20 * Math.cos(i * 0.11) + (i % 5));
  await writeImage(image, { data, shape: [200, 300] }, { axes: 'YX' });
}

/** The pixel bytes of an image (metadata such as the name in OME-XML left out). */
export async function pixelBytes(path: string): Promise<Buffer> {
  const { data } = await (await openImage(path)).read();
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
