import { existsSync } from 'node:fs';
import { copyFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueStatus, waitForRun } from '../../src/node.js';
import { cli, errorLines, tempDir } from '../cli/helpers.js';
import { freePort, HAS_REDIS, pixelBytes, startRedis, startWorker, tinyModelAndImage } from './helpers.js';

/** Small tiles and chunks, so the 200×300 image makes several jobs (16 regions of 64×128 → 4×3 = 12). */
const TILING = ['--tile-size', '64', '64', '--tile-overlap', '16', '16'];
const SPLIT = ['--chunk-size', '64', '64', '--region-size', '64'];
/**
 * Worker death is noticed within about a second instead of BullMQ's 30 s default. Every worker of the queue
 * gets it: the stalled-job check runs at most once per interval across all workers, at the last one's pace.
 */
const FAST_STALL = ['--lock-duration', '1000', '--stalled-interval', '500'];

describe.skipIf(!HAS_REDIS)('careamics predict --queue, careamics worker, careamics queue status', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let reference: Buffer;
  const p = (...parts: string[]) => join(dir, ...parts);
  const runIdOf = (stdout: string) => /^run (\S+):/m.exec(stdout)![1]!;

  beforeAll(async () => {
    ({ path: dir, cleanup } = await tempDir());
    redis = await startRedis();
    await tinyModelAndImage(p('run'), p('image.tif'));
    const single = await cli(
      'predict',
      p('run'),
      p('image.tif'),
      '--format',
      'zarr',
      ...TILING,
      '-o',
      p('single'),
    );
    expect(single.code).toBe(0);
    reference = await pixelBytes(p('single', 'image_denoised.zarr'));
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
    await cleanup();
  });

  it('two worker processes write exactly the single-process prediction; status shows the progress', async () => {
    const out = p('two');
    const queued = await cli(
      'predict',
      p('run'),
      p('image.tif'),
      '--format',
      'zarr',
      ...TILING,
      ...SPLIT,
      '-o',
      out,
      '--queue',
      redis.url,
    );
    expect(queued.stderr).toBe('');
    expect(queued.code).toBe(0);
    const runId = runIdOf(queued.stdout);
    expect(queued.stdout).toContain(`careamics worker --queue ${redis.url}`);
    const before = await cli('queue', 'status', '--queue', redis.url, '--run', runId);
    expect(before.stdout).toMatch(
      new RegExp(`run ${runId} {2}running {2}0/(\\d+) jobs done: \\1 waiting, 0 active`),
    );
    // Nothing at the output until the run is finalised: the regions go to a partial image beside it.
    expect(existsSync(join(out, 'image_denoised.zarr'))).toBe(false);

    const workers = [
      startWorker(['--queue', redis.url, ...FAST_STALL]),
      startWorker(['--queue', redis.url, ...FAST_STALL]),
    ];
    try {
      await waitForRun(redis.url, runId, { pollMs: 200 });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    expect(await pixelBytes(join(out, 'image_denoised.zarr'))).toEqual(reference);
    expect(await readdir(out)).toEqual(['image_denoised.zarr']);
    const after = await cli('queue', 'status', '--queue', redis.url, '--run', runId);
    expect(after.stdout).toMatch(
      / done {2}(\d+)\/\1 jobs done: 0 waiting, 0 active, \d+ completed, 0 failed/,
    );
    // Both processes took jobs.
    for (const w of workers) expect(w.output()).toMatch(/image\.tif \[\d+,\d+\]\.\.\[\d+,\d+\]: done/);
  }, 60_000);

  it('a worker killed with SIGKILL mid-job: another one redoes the job, and the output is still identical', async () => {
    const out = p('killed');
    const queued = await cli(
      'predict',
      p('run'),
      p('image.tif'),
      '--format',
      'zarr',
      ...TILING,
      ...SPLIT,
      '-o',
      out,
      '--queue',
      redis.url,
    );
    expect(queued.code).toBe(0);
    const runId = runIdOf(queued.stdout);
    // The doomed worker holds each job 5 s before predicting: it is killed while it holds the first.
    const doomed = startWorker(['--queue', redis.url, ...FAST_STALL], { CAREAMICS_WORKER_DELAY_MS: '5000' });
    await doomed.waitFor(/: started \(attempt 1\)/);
    const taken = /run \S+: (image\.tif \[[\d,]+\]\.\.\[[\d,]+\]): started/.exec(doomed.output())![1]!;
    await doomed.stop('SIGKILL');
    const rescuer = startWorker(['--queue', redis.url, ...FAST_STALL]);
    try {
      await waitForRun(redis.url, runId, { pollMs: 200 });
    } finally {
      await rescuer.stop();
    }
    expect(doomed.output()).not.toContain(`${taken}: done`);
    expect(rescuer.output()).toContain(`${taken}: done`);
    expect(await pixelBytes(join(out, 'image_denoised.zarr'))).toEqual(reference);
    const [status] = await queueStatus(redis.url, runId);
    expect(status!.state).toBe('done');
    expect(status!.counts.failed).toBe(0);
  }, 60_000);

  it('refuses a second run into an output that a run is writing, naming the output and the run', async () => {
    const out = p('twice');
    const args = [
      'predict',
      p('run'),
      p('image.tif'),
      '--format',
      'zarr',
      ...TILING,
      '-o',
      out,
      '--queue',
      redis.url,
    ];
    const first = await cli(...args);
    expect(first.code).toBe(0);
    const second = await cli(...args);
    expect(second.code).toBe(1);
    expect(errorLines(second.stderr)).toEqual([
      `careamics: error: ${join(out, 'image_denoised.zarr')}: run ${runIdOf(first.stdout)} is already writing this output (see careamics queue status --queue ${redis.url})`,
    ]);
    const worker = startWorker(['--queue', redis.url, ...FAST_STALL]);
    try {
      await waitForRun(redis.url, runIdOf(first.stdout), { pollMs: 200 });
    } finally {
      await worker.stop();
    }
    // Once written, the output is not overwritten by another run either.
    const third = await cli(...args);
    expect(third.code).toBe(1);
    expect(errorLines(third.stderr)).toEqual([
      `careamics: error: ${join(out, 'image_denoised.zarr')}: already exists; remove it or choose another -o`,
    ]);
  }, 60_000);

  it('a job failing every attempt fails the run (status and --wait say why); the next run takes the output over', async () => {
    const out = p('failing');
    await copyFile(p('image.tif'), p('doomed.tif'));
    const args = ['predict', p('run'), p('doomed.tif'), '--format', 'zarr', ...TILING, '-o', out];
    const queued = await cli(...args, '--queue', redis.url, '--attempts', '2', '--backoff', '100');
    expect(queued.code).toBe(0);
    const runId = runIdOf(queued.stdout);
    await rm(p('doomed.tif'));
    const worker = startWorker(['--queue', redis.url, ...FAST_STALL]);
    try {
      await expect(waitForRun(redis.url, runId, { pollMs: 200 })).rejects.toThrow(
        new RegExp(`run ${runId} failed: .*doomed\\.tif`),
      );
      expect(worker.output()).toMatch(/failed \(attempt 1\)[^\n]*\n[\s\S]*failed \(attempt 2\)/);
      const status = await cli('queue', 'status', '--queue', redis.url, '--run', runId);
      expect(status.stdout).toMatch(new RegExp(`run ${runId} {2}failed \\(.*doomed\\.tif`));
      expect(existsSync(join(out, 'doomed_denoised.zarr'))).toBe(false);
      // The failed run holds the output no more: a new run takes it over and clears the failed one's partial image.
      await copyFile(p('image.tif'), p('doomed.tif'));
      const again = await cli(...args, '--queue', redis.url, '--wait');
      expect(again.stderr).not.toContain('error');
      expect(again.code).toBe(0);
    } finally {
      await worker.stop();
    }
    expect(await pixelBytes(join(out, 'doomed_denoised.zarr'))).toEqual(reference);
    expect(await readdir(out)).toEqual(['doomed_denoised.zarr']);
  }, 60_000);

  it('one job per file for TIFF outputs, finalised the same way', async () => {
    const out = p('tiff');
    const queued = await cli('predict', p('run'), p('image.tif'), ...TILING, '-o', out, '--queue', redis.url);
    expect(queued.code).toBe(0);
    expect(queued.stdout).toContain(': 1 job(s) for 1 image(s)');
    const worker = startWorker(['--queue', redis.url, ...FAST_STALL]);
    try {
      await waitForRun(redis.url, runIdOf(queued.stdout), { pollMs: 200 });
    } finally {
      await worker.stop();
    }
    expect(await pixelBytes(join(out, 'image_denoised.tif'))).toEqual(reference);
  }, 60_000);
});

describe('an unreachable Redis', () => {
  it('fails predict --queue, worker and queue status with one line and exit 1', async () => {
    const url = `redis://127.0.0.1:${await freePort()}/0`;
    const { path, cleanup } = await tempDir();
    try {
      // Checked before the model is read: an empty stand-in will do.
      await writeFile(join(path, 'model.onnx'), '');
      await writeFile(join(path, 'image.npy'), '');
      const predict = [
        'predict',
        join(path, 'model.onnx'),
        join(path, 'image.npy'),
        '--mean',
        '0',
        '--std',
        '1',
      ];
      const runs = [
        await cli(...predict, '-o', join(path, 'out'), '--queue', url),
        await cli('worker', '--queue', url),
        await cli('queue', 'status', '--queue', url),
      ];
      for (const result of runs) {
        expect(result.code).toBe(1);
        expect(errorLines(result.stderr)).toEqual([
          `careamics: error: ${url}: cannot reach Redis (ECONNREFUSED)`,
        ]);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
      }
      expect(existsSync(join(path, 'out'))).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it('refuses a URL that is not redis://', async () => {
    const result = await cli('queue', 'status', '--queue', 'http://localhost:6379');
    expect(result.code).toBe(1);
    expect(errorLines(result.stderr)).toEqual([
      'careamics: error: http://localhost:6379: expected redis://HOST:PORT/DB (or rediss:// for TLS), not http://',
    ]);
  });
});
