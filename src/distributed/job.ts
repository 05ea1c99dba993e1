/**
 * One unit of distributed prediction: a region of one image's output, predicted with the tiles of the whole
 * image (fixed when the run is planned, so every worker, whatever its memory, uses the same ones).
 */
import { availableParallelism } from 'node:os';
import type { FrozenModel } from '../careamist/frozen.js';
import type { CAREamist } from '../careamist/node.js';
import { loadModel } from '../careamist/node.js';
import type { TiledModel } from '../careamist/tiled.js';
import { nodeRuntime } from '../engine/node.js';
import type { DType, ImageSource, ImageWriter, Region, TypedArray } from '../io/index.js';
import { openImage } from '../io/node/index.js';
import type { Pn2vOutput } from '../models/index.js';
import {
  type AutoTileInput,
  chooseTileSize,
  chunkBlock,
  outputLayout,
  partitionRegions,
  planTiles,
  regionsFromCuts,
  resolveMemoryBudget,
  resolveOverlap,
  tileAlignedCuts,
} from '../prediction/index.js';

/** Tiling fixed for a whole run. */
export interface JobTiling {
  tileSize: number[];
  tileOverlap?: number[];
  tta?: boolean;
  batchSize?: number;
  /** pn2v models: the posterior mean (default) or the prior mean; every worker must predict the same one. */
  pn2vOutput?: Pn2vOutput;
}

/** What a worker needs to predict a region: plain data (it crosses processes and Redis as JSON). */
export interface RegionJob {
  /** Model path (work dir, checkpoint, BMZ zip or .onnx), as every worker sees it. */
  model: string;
  /** Training statistics, for .onnx models only. */
  normalization?: { mean: number[]; std: number[] };
  input: string;
  /** The input's axes, resolved when the run was planned. */
  axes: string;
  tiling: JobTiling;
  outputDtype: 'float32' | 'input';
  /** The box of the output (output axes) to predict; absent: the whole image. */
  region?: Region;
}

/** Tiles larger than this gain nothing (bench:predict) and make the tiles that regions share costlier. */
const DISTRIBUTED_TILE_EDGE = 256;

/** The tile size for a run: the one asked for, else the automatic one from the memory budget, capped at 256. */
export function runTiling(
  model: TiledModel,
  source: ImageSource,
  settings: Partial<JobTiling> & { memoryBudgetBytes?: number; availableMemoryBytes?: number },
): JobTiling {
  const { tileOverlap, tta, batchSize = 1, pn2vOutput } = settings;
  if (settings.tileSize) return { tileSize: settings.tileSize, tileOverlap, tta, batchSize, pn2vOutput };
  const letters = model.facts.is3D ? 'ZYX' : 'YX';
  const spatialShape = [...source.axes.toUpperCase()]
    .map((letter, i) => (letters.includes(letter) ? source.shape[i]! : -1))
    .filter((size) => size >= 0);
  const input: AutoTileInput = {
    spatialShape,
    model: model.facts,
    batchSize,
    budgetBytes: resolveMemoryBudget(settings),
    tta,
    tileOverlap,
  };
  const tileSize = chooseTileSize(input).map((edge) => Math.min(edge, DISTRIBUTED_TILE_EDGE));
  return { tileSize, tileOverlap, tta, batchSize, pn2vOutput };
}

/** The output of a run: its axes, shape and dtype, and the regions that partition it. */
export interface OutputPlan {
  axes: string;
  shape: number[];
  dtype: DType;
  regions: Region[];
}

/**
 * The output of `source` through `model`, split into regions of whole `chunks` (about `regionSize` pixels along
 * the tiled axes, at least `minRegions` of them where the chunks allow).
 */
export function planOutput(
  model: TiledModel,
  source: ImageSource,
  options: {
    outputDtype: 'float32' | 'input';
    chunks: (axes: string, shape: readonly number[]) => number[];
    regionSize?: number;
    minRegions?: number;
  },
): OutputPlan {
  const { axes, shape } = outputLayout(source.axes, [...source.shape], model.facts.outChannels);
  const chunks = options.chunks(axes, shape);
  const block = chunkBlock(shape, chunks, axes, {
    tiledAxes: model.facts.is3D ? 'ZYX' : 'YX',
    regionSize: options.regionSize ?? 1024,
    minRegions: options.minRegions,
  });
  const dtype = options.outputDtype === 'input' ? source.dtype : 'float32';
  return { axes, shape, dtype, regions: partitionRegions(shape, block) };
}

/**
 * The output of `source` through `model`, split between tiles (no tile is predicted twice): for a single
 * writer, which may write regions that share storage chunks one after the other.
 */
export function planTileAlignedOutput(
  model: TiledModel,
  source: ImageSource,
  tiling: JobTiling,
  options: { outputDtype: 'float32' | 'input'; regionSize?: number; minRegions?: number },
): OutputPlan {
  const { axes, shape } = outputLayout(source.axes, [...source.shape], model.facts.outChannels);
  const letters = [...(model.facts.is3D ? 'ZYX' : 'YX')].filter((letter) => axes.includes(letter));
  const spatialShape = letters.map((letter) => shape[axes.indexOf(letter)]!);
  const overlap = resolveOverlap(tiling.tileSize, tiling.tileOverlap, model.facts.receptiveFieldHalo);
  const grid = planTiles(spatialShape, tiling.tileSize, overlap, 2 ** model.facts.depth);
  const iterated = [...axes].filter((letter) => letter !== 'C' && !letters.includes(letter));
  const spatialCuts = tileAlignedCuts(grid, {
    regionSize: options.regionSize ?? 1024,
    minRegions: options.minRegions,
    iteratedCount: iterated.reduce((n, letter) => n * shape[axes.indexOf(letter)]!, 1),
  });
  const cuts = [...axes].map((letter, i) => {
    if (letter === 'C') return [0, shape[i]!];
    const spatial = letters.indexOf(letter);
    return spatial >= 0 ? spatialCuts[spatial]! : Array.from({ length: shape[i]! + 1 }, (_, k) => k);
  });
  const dtype = options.outputDtype === 'input' ? source.dtype : 'float32';
  return { axes, shape, dtype, regions: regionsFromCuts(cuts) };
}

/** Models and images kept between jobs: the last few, since a long-lived worker sees many runs. */
const KEPT_MODELS = 2;
const KEPT_SOURCES = 4;

/** Models and images a worker keeps between jobs: one ONNX Runtime session per model. */
export class WorkerCache {
  readonly #models = new Map<string, Promise<CAREamist | FrozenModel>>();
  readonly #sources = new Map<string, Promise<ImageSource>>();
  /** Intra-op threads of each session. */
  readonly threads: number;

  constructor(threads = availableParallelism()) {
    this.threads = threads;
  }

  model(job: RegionJob): Promise<CAREamist | FrozenModel> {
    const key = JSON.stringify([job.model, job.normalization]);
    let model = this.#models.get(key);
    if (!model) {
      model = loadModel(job.model, { runtime: nodeRuntime(this.threads), normalization: job.normalization });
      model.catch(() => this.#models.delete(key));
      this.#models.set(key, model);
      if (this.#models.size > KEPT_MODELS) {
        const [oldestKey, oldest] = this.#models.entries().next().value!;
        this.#models.delete(oldestKey);
        void oldest.then((m) => m.dispose()).catch(() => undefined);
      }
    }
    return model;
  }

  source(job: RegionJob): Promise<ImageSource> {
    const key = JSON.stringify([job.input, job.axes]);
    let source = this.#sources.get(key);
    if (!source) {
      source = openImage(job.input, { axes: job.axes });
      source.catch(() => this.#sources.delete(key));
      this.#sources.set(key, source);
      if (this.#sources.size > KEPT_SOURCES) this.#sources.delete(this.#sources.keys().next().value!);
    }
    return source;
  }

  async dispose(): Promise<void> {
    const models = await Promise.allSettled(this.#models.values());
    this.#models.clear();
    this.#sources.clear();
    for (const m of models) if (m.status === 'fulfilled') await m.value.dispose();
  }
}

/** Predicts `job.region` of the output into `writer` (which holds the whole output's shape). */
export async function predictRegion(
  cache: WorkerCache,
  job: RegionJob,
  writer: ImageWriter,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<void> {
  const [model, source] = await Promise.all([cache.model(job), cache.source(job)]);
  await model.predictToWriter(source, writer, {
    ...job.tiling,
    outputRegion: job.region,
    signal: options.signal,
    onProgress: options.onProgress,
  });
}

/** A writer that hands each written region to `onWrite` (to send it to another process): never closes anything. */
export function forwardingWriter(
  output: { axes: string; shape: readonly number[]; dtype: DType },
  onWrite: (region: Region, data: TypedArray) => void,
): ImageWriter {
  return {
    axes: output.axes,
    shape: output.shape,
    dtype: output.dtype,
    write: async (region, data) => onWrite(region, data),
    close: async () => {},
    abort: async () => {},
  };
}
