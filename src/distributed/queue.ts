/**
 * Prediction over many machines on BullMQ (Redis): `enqueuePrediction` plans a run (one job per region of each
 * OME-Zarr output, one per file otherwise) as a BullMQ flow whose parent job finalises the outputs once every
 * region is in; `startQueueWorker` (any number, anywhere the paths are the same) takes jobs; BullMQ does the
 * rest: retries with exponential backoff, and jobs whose worker died (its lock expired) run again elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FlowProducer, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadModel, predictToDisk } from '../careamist/node.js';
import { createOmeZarrFolder, openImage, openOmeZarrWriterPath } from '../io/node/index.js';
import { DistributedError } from './errors.js';
import { planOutput, predictRegion, type RegionJob, runTiling, WorkerCache } from './job.js';
import { outputChunks, type WorkersOptions } from './pool.js';
import { checkReachable, parseQueueUrl, type RedisTarget } from './redis.js';

/** The BullMQ queue every careamics worker listens on. */
export const QUEUE_NAME = 'careamics-predict';
const RUNS_KEY = 'careamics:runs';
const runKey = (runId: string) => `careamics:run:${runId}`;
const lockKey = (output: string) => `careamics:output:${output}`;

/** A predicting job: a region of an OME-Zarr output (written into `target`, the run's partial image) or a file. */
interface PredictJobData {
  runId: string;
  job: RegionJob;
  /** The partial OME-Zarr folder (region jobs) or the output file (file jobs). */
  target: string;
}

/** The flow's parent: runs once every predicting job is done. */
interface FinaliseJobData {
  runId: string;
  outputs: { output: string; partial?: string }[];
}

export interface EnqueueOptions extends Omit<WorkersOptions, 'workers' | 'signal' | 'onProgress' | 'axes'> {
  /** Tries per job before the run fails (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubled at each retry (default 1000). */
  backoffMs?: number;
}

export interface EnqueuedRun {
  runId: string;
  jobs: number;
  outputs: string[];
}

function connectionOf(target: RedisTarget) {
  // BullMQ needs `maxRetriesPerRequest: null` for its blocking commands.
  return { ...target, maxRetriesPerRequest: null };
}

async function connect(url: string): Promise<{ target: RedisTarget; redis: Redis }> {
  const target = parseQueueUrl(url);
  await checkReachable(url, target);
  const redis = new Redis({ ...target, lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect().catch((cause: Error) => {
    throw new DistributedError('QueueUnreachable', `${url}: cannot use Redis (${cause.message})`, { cause });
  });
  return { target, redis };
}

const exists = async (path: string) => (await stat(path).catch(() => undefined)) !== undefined;

/**
 * Takes the lock on `output` for `runId`, or says which run holds it. A lock whose run failed (its parent job
 * failed or is gone) is taken over, and that run's partial image removed.
 */
async function lockOutput(redis: Redis, queue: Queue, url: string, output: string, runId: string) {
  if ((await redis.set(lockKey(output), runId, 'NX')) === 'OK') return;
  const holder = await redis.get(lockKey(output));
  const state = holder ? await queue.getJobState(`${holder}-finalise`) : 'unknown';
  if (holder && state !== 'failed' && state !== 'unknown') {
    throw new DistributedError(
      'OutputTaken',
      `${output}: run ${holder} is already writing this output (see careamics queue status --queue ${url})`,
    );
  }
  const stale = holder ? await redis.hget(runKey(holder), 'outputs') : null;
  for (const o of JSON.parse(stale ?? '[]') as FinaliseJobData['outputs']) {
    if (o.output === output && o.partial) await rm(o.partial, { recursive: true, force: true });
  }
  await redis.set(lockKey(output), runId);
}

/**
 * Plans and enqueues a run: `items` (input and output paths, the input's axes) predicted by `modelPath`.
 * OME-Zarr outputs are created empty (in a partial folder beside them, renamed into place when the run
 * finishes); other formats get one job per file. Paths are made absolute: workers must see the same ones.
 */
export async function enqueuePrediction(
  url: string,
  modelPath: string,
  items: readonly { input: string; output: string; axes?: string }[],
  options: EnqueueOptions = {},
): Promise<EnqueuedRun> {
  const { target, redis } = await connect(url);
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(target) });
  const flow = new FlowProducer({ connection: connectionOf(target) });
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const locked: string[] = [];
  const created: string[] = [];
  const model = await loadModel(resolve(modelPath), { normalization: options.normalization });
  try {
    const jobs: PredictJobData[] = [];
    const outputs: FinaliseJobData['outputs'] = [];
    for (const item of items) {
      const output = resolve(item.output);
      if (await exists(output)) {
        throw new DistributedError(
          'OutputTaken',
          `${output}: already exists; remove it or choose another -o`,
        );
      }
      await lockOutput(redis, queue, url, output, runId);
      locked.push(output);
      await mkdir(dirname(output), { recursive: true });
      const input = resolve(item.input);
      const source = await openImage(input, { axes: item.axes ?? model.axes });
      const job: RegionJob = {
        model: resolve(modelPath),
        normalization: options.normalization,
        input,
        axes: source.axes,
        tiling: runTiling(model, source, options),
        outputDtype: options.outputDtype ?? 'float32',
      };
      if (!/\.zarr\/?$/i.test(output)) {
        jobs.push({ runId, job, target: output });
        outputs.push({ output });
        continue;
      }
      const tiledAxes = model.facts.is3D ? 'ZYX' : 'YX';
      const chunksOf = (axes: string, shape: readonly number[]) =>
        outputChunks(axes, shape, options.chunkSize, tiledAxes);
      const plan = planOutput(model, source, {
        outputDtype: job.outputDtype,
        chunks: chunksOf,
        regionSize: options.regionSize,
      });
      const partial = join(dirname(output), `.${basename(output)}.${runId}.partial`);
      await createOmeZarrFolder(partial, {
        shape: plan.shape,
        dtype: plan.dtype,
        axes: plan.axes,
        chunks: chunksOf(plan.axes, plan.shape),
        name: output,
      });
      created.push(partial);
      for (const region of plan.regions) jobs.push({ runId, job: { ...job, region }, target: partial });
      outputs.push({ output, partial });
    }
    const retry = {
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
    };
    await redis
      .multi()
      .hset(runKey(runId), {
        created: new Date().toISOString(),
        model: resolve(modelPath),
        jobs: String(jobs.length),
        outputs: JSON.stringify(outputs),
      })
      .zadd(RUNS_KEY, String(Date.now()), runId)
      .exec();
    await flow.add({
      name: 'finalise',
      queueName: QUEUE_NAME,
      data: { runId, outputs } satisfies FinaliseJobData,
      opts: { jobId: `${runId}-finalise`, ...retry },
      children: jobs.map((data, i) => ({
        name: data.job.region ? 'region' : 'file',
        queueName: QUEUE_NAME,
        data,
        opts: { jobId: `${runId}-${i}`, ...retry, failParentOnFailure: true },
      })),
    });
    return { runId, jobs: jobs.length, outputs: outputs.map((o) => o.output) };
  } catch (err) {
    for (const output of locked) await redis.del(lockKey(output));
    for (const partial of created) await rm(partial, { recursive: true, force: true });
    throw err;
  } finally {
    await model.dispose();
    await Promise.all([queue.close(), flow.close()]);
    redis.disconnect();
  }
}

export interface QueueWorkerOptions {
  /** Jobs at once in this process (default 1); each runs on `threads` intra-op threads. */
  concurrency?: number;
  threads?: number;
  /** How long a job's lock lasts without renewal: a worker dead this long loses its job (default 30000 ms). */
  lockDurationMs?: number;
  /** How often stalled jobs (dead workers') are looked for (default 30000 ms). */
  stalledIntervalMs?: number;
  /** Hears one line per job started, done or failed. */
  onEvent?: (line: string) => void;
}

/** What a worker prints of a job. */
function describeJob(job: Job): string {
  if (job.name === 'finalise') return `run ${(job.data as FinaliseJobData).runId}: finalise`;
  const { runId, job: spec } = job.data as PredictJobData;
  const where = spec.region ? ` [${spec.region.start}]..[${spec.region.stop}]` : '';
  return `run ${runId}: ${basename(spec.input)}${where}`;
}

/** Renames each partial OME-Zarr into place and releases the outputs; safe to run again after a crash. */
async function finalise(redis: Redis, data: FinaliseJobData): Promise<void> {
  for (const { output, partial } of data.outputs) {
    if (partial && (await exists(partial))) await rename(partial, output);
  }
  for (const { output } of data.outputs) {
    if ((await redis.get(lockKey(output))) === data.runId) await redis.del(lockKey(output));
  }
  await redis.hset(runKey(data.runId), 'finished', new Date().toISOString());
}

/** Delay before each job, for fault drills (kill a worker mid-job): `CAREAMICS_WORKER_DELAY_MS`. */
function drillDelay(): Promise<void> {
  const ms = Number(process.env['CAREAMICS_WORKER_DELAY_MS'] ?? 0);
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

/** Takes jobs from the queue at `url` until `close()`. */
export async function startQueueWorker(
  url: string,
  options: QueueWorkerOptions = {},
): Promise<{ close: () => Promise<void> }> {
  const { target, redis } = await connect(url);
  const cache = new WorkerCache(options.threads);
  const say = options.onEvent ?? (() => undefined);
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      const started = performance.now();
      say(`${describeJob(job)}: started (attempt ${job.attemptsMade + 1})`);
      if (job.name === 'finalise') {
        await finalise(redis, job.data as FinaliseJobData);
      } else {
        await drillDelay();
        const { job: spec, target: path } = job.data as PredictJobData;
        if (spec.region) {
          await predictRegion(cache, spec, await openOmeZarrWriterPath(path));
        } else {
          const [model, source] = await Promise.all([cache.model(spec), cache.source(spec)]);
          await predictToDisk(model, source, path, { ...spec.tiling, outputDtype: spec.outputDtype });
        }
      }
      say(`${describeJob(job)}: done in ${((performance.now() - started) / 1000).toFixed(1)}s`);
    },
    {
      connection: connectionOf(target),
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
    },
  );
  worker.on('failed', (job, err) => {
    if (job) say(`${describeJob(job)}: failed (attempt ${job.attemptsMade}): ${err.message.split('\n')[0]}`);
  });
  worker.on('error', (err) => say(`worker: ${err.message.split('\n')[0]}`));
  await worker.waitUntilReady();
  return {
    /** Waits for the jobs in hand, then lets go of Redis and the models. */
    close: async () => {
      try {
        await worker.close();
      } finally {
        redis.disconnect();
        await cache.dispose();
      }
    },
  };
}

export interface RunStatus {
  runId: string;
  created: string;
  outputs: string[];
  /** running: jobs left; finalising: the parent job is taken; done; failed. */
  state: 'running' | 'done' | 'failed';
  jobs: number;
  counts: { waiting: number; active: number; completed: number; failed: number };
  /** Why the first failed job failed. */
  failedReason?: string;
}

/** Progress of every run on the queue at `url` (oldest first), or of one. */
export async function queueStatus(url: string, runId?: string): Promise<RunStatus[]> {
  const { target, redis } = await connect(url);
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(target) });
  try {
    const ids = runId ? [runId] : await redis.zrange(RUNS_KEY, '0', '-1');
    const runs: RunStatus[] = [];
    for (const id of ids) runs.push(await runStatus(redis, queue, url, id));
    return runs;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

async function runStatus(redis: Redis, queue: Queue, url: string, id: string): Promise<RunStatus> {
  const info = await redis.hgetall(runKey(id));
  if (info['jobs'] === undefined) throw new DistributedError('RunFailed', `run ${id}: not found on ${url}`);
  const jobs = Number(info['jobs']);
  const counts = { waiting: 0, active: 0, completed: 0, failed: 0 };
  let failedReason: string | undefined;
  const states = await Promise.all(Array.from({ length: jobs }, (_, i) => queue.getJobState(`${id}-${i}`)));
  for (const [i, state] of states.entries()) {
    if (state === 'active') counts.active++;
    else if (state === 'completed') counts.completed++;
    else if (state === 'failed') {
      counts.failed++;
      failedReason ??= (await queue.getJob(`${id}-${i}`))?.failedReason;
    } else counts.waiting++;
  }
  const parent = await queue.getJobState(`${id}-finalise`);
  const state = parent === 'completed' ? 'done' : parent === 'failed' ? 'failed' : 'running';
  if (state === 'failed' && !failedReason)
    failedReason = (await queue.getJob(`${id}-finalise`))?.failedReason;
  const outputs = (JSON.parse(info['outputs'] ?? '[]') as FinaliseJobData['outputs']).map((o) => o.output);
  return { runId: id, created: info['created']!, outputs, state, jobs, counts, failedReason };
}

/** Waits for a run to finish (polling its status); throws `RunFailed` with the first job's error if it fails. */
export async function waitForRun(
  url: string,
  runId: string,
  options: { pollMs?: number; signal?: AbortSignal; onProgress?: (status: RunStatus) => void } = {},
): Promise<RunStatus> {
  const { target, redis } = await connect(url);
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(target) });
  try {
    while (true) {
      options.signal?.throwIfAborted();
      const status = await runStatus(redis, queue, url, runId);
      options.onProgress?.(status);
      if (status.state === 'done') return status;
      if (status.state === 'failed') {
        throw new DistributedError(
          'RunFailed',
          `run ${runId} failed: ${status.failedReason ?? 'unknown reason'}`,
        );
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
    }
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
