/**
 * `--workers N` on one machine: N child processes, each its own ONNX Runtime session with `cores / N` threads,
 * predict regions of the output; this process hands out the regions and is the only writer, so any output
 * format works and the result is the single-process one, byte for byte.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadModel } from '../careamist/node.js';
import type { DType, ImageWriter, Region, TypedArray } from '../io/index.js';
import { createImageWriter, openImage } from '../io/node/index.js';
import type { Pn2vOutput } from '../models/index.js';
import { DistributedError } from './errors.js';
import { type OutputPlan, planTileAlignedOutput, type RegionJob, runTiling } from './job.js';

export type ParentMessage =
  | { type: 'init'; threads: number }
  | {
      type: 'region';
      id: number;
      job: RegionJob;
      output: { axes: string; shape: number[]; dtype: DType };
    };

export type ChildMessage =
  | { type: 'done'; id: number; writes: { region: Region; data: TypedArray }[]; tiles: number }
  | { type: 'failed'; id: number; message: string };

export interface WorkersOptions {
  workers: number;
  /** The input's axes (default: the model's training axes, else the file's). */
  axes?: string;
  normalization?: { mean: number[]; std: number[] };
  tileSize?: number[];
  tileOverlap?: number[];
  tta?: boolean;
  /** pn2v models: the posterior mean (`mmse`, default) or the network's prior mean (`prior`). */
  pn2vOutput?: Pn2vOutput;
  batchSize?: number;
  outputDtype?: 'float32' | 'input';
  availableMemoryBytes?: number;
  /** Pixels of a region along the tiled axes (default 1024): whole tiles here, whole chunks on the queue. */
  regionSize?: number;
  /** OME-Zarr outputs: chunk shape along the output's tiled axes (default 256). */
  chunkSize?: number[];
  signal?: AbortSignal;
  onProgress?: (regionsDone: number, regions: number) => void;
}

/** Intra-op threads per worker: the cores shared out, at least one each. */
export function threadsPerWorker(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / workers));
}

/** The child entry: compiled JavaScript, or in a checkout the TypeScript source run through tsx. */
function childEntry(): { path: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const tsx = createRequire(here).resolve('tsx');
    return {
      path: fileURLToPath(new URL('./child.ts', here)),
      execArgv: ['--import', pathToFileURL(tsx).href],
    };
  }
  return { path: fileURLToPath(new URL('./child.js', here)), execArgv: [] };
}

/** Default chunks: 256 along the tiled axes (32 along Z), 1 elsewhere; whole chunks make regions. */
export function outputChunks(
  axes: string,
  shape: readonly number[],
  chunkSize: readonly number[] | undefined,
  tiledAxes: string,
): number[] {
  const tiled = [...axes].filter((a) => tiledAxes.includes(a));
  if (chunkSize !== undefined && chunkSize.length !== tiled.length) {
    throw new DistributedError(
      'InvalidOption',
      `chunk size [${chunkSize.join(', ')}]: one value per tiled axis (${tiled.join(' ')}) is needed`,
    );
  }
  return [...axes].map((letter, i) => {
    const t = tiled.indexOf(letter);
    const size = t < 0 ? 1 : (chunkSize?.[t] ?? (letter === 'Z' ? 32 : 256));
    return Math.max(1, Math.min(shape[i]!, size));
  });
}

/**
 * Predicts the image `input` into `output` (any format `createImageWriter` writes) with `workers` processes.
 * Written atomically like a single-process prediction; on failure nothing is left at `output`.
 */
export async function predictWithWorkers(
  modelPath: string,
  input: string,
  output: string,
  options: WorkersOptions,
): Promise<{ axes: string; shape: number[]; regions: number; tiles: number }> {
  const { workers, normalization } = options;
  // The model is loaded here only for what planning needs (tiling facts, training axes).
  const model = await loadModel(modelPath, { normalization });
  const { source, tiling, plan } = await (async () => {
    try {
      const source = await openImage(input, { axes: options.axes ?? model.axes });
      const tiling = runTiling(model, source, options);
      // This process is the only writer, so regions may share chunks: they are cut between tiles instead.
      const plan = planTileAlignedOutput(model, source, tiling, {
        outputDtype: options.outputDtype ?? 'float32',
        regionSize: options.regionSize,
        minRegions: 2 * workers,
      });
      return { source, tiling, plan };
    } finally {
      await model.dispose();
    }
  })();
  const tiledAxes = model.facts.is3D ? 'ZYX' : 'YX';
  const isZarr = /\.zarr\/?$/i.test(output);
  const chunks = isZarr ? outputChunks(plan.axes, plan.shape, options.chunkSize, tiledAxes) : undefined;
  const writer = await createImageWriter(output, {
    shape: plan.shape,
    dtype: plan.dtype,
    axes: plan.axes,
    ...(chunks ? { chunks } : {}),
  });
  const job: Omit<RegionJob, 'region'> = {
    model: modelPath,
    normalization,
    input,
    axes: source.axes,
    tiling,
    outputDtype: options.outputDtype ?? 'float32',
  };
  const entry = childEntry();
  const children = Array.from({ length: Math.min(workers, plan.regions.length) }, () =>
    fork(entry.path, [], { execArgv: entry.execArgv, serialization: 'advanced', stdio: 'inherit' }),
  );
  try {
    const tiles = await distribute(children, plan, job, writer, options);
    await writer.close();
    return { axes: plan.axes, shape: plan.shape, regions: plan.regions.length, tiles };
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  } finally {
    for (const child of children) if (child.connected) child.disconnect();
  }
}

/** Hands regions to idle children until all are written; the first failure stops everything. */
function distribute(
  children: ChildProcess[],
  plan: OutputPlan,
  job: Omit<RegionJob, 'region'>,
  writer: ImageWriter,
  options: WorkersOptions,
): Promise<number> {
  const threads = threadsPerWorker(options.workers);
  const output = { axes: plan.axes, shape: plan.shape, dtype: plan.dtype };
  let next = 0;
  let done = 0;
  let tiles = 0;
  return new Promise<number>((resolve, reject) => {
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      for (const child of children) child.kill();
      reject(err);
    };
    options.signal?.addEventListener('abort', () => fail(options.signal!.reason as Error), { once: true });
    const give = (child: ChildProcess) => {
      if (next >= plan.regions.length || failed) return;
      const id = next++;
      child.send({
        type: 'region',
        id,
        job: { ...job, region: plan.regions[id]! },
        output,
      } satisfies ParentMessage);
    };
    for (const child of children) {
      child.send({ type: 'init', threads } satisfies ParentMessage);
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'failed') {
          fail(new DistributedError('WorkerFailed', message.message));
          return;
        }
        void Promise.all(message.writes.map(({ region, data }) => writer.write(region, data)))
          .then(() => {
            done++;
            tiles += message.tiles;
            options.onProgress?.(done, plan.regions.length);
            if (done === plan.regions.length) resolve(tiles);
            else give(child);
          })
          .catch(fail);
      });
      child.on('exit', (code, signal) => {
        if (done < plan.regions.length) {
          fail(
            new DistributedError(
              'WorkerFailed',
              `a worker process exited (${signal ?? `code ${code}`}) before the prediction was done`,
            ),
          );
        }
      });
      give(child);
    }
  });
}
