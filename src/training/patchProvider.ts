/**
 * Where training patches come from: images held in memory, or regions read on demand from the files through a
 * bounded chunk cache (out-of-core training, `data_config.in_memory: false`). Both cut the same patches for the
 * same specs, so the trainer never branches on the mode and a seed gives the same run either way.
 */
import {
  DataError,
  extractPatchBatch,
  type ImageArray,
  type PatchSpec,
  readPatchBatch,
} from '../data/index.js';
import { CachedSource, ChunkCache, isChunkedSource } from '../io/chunks.js';
import type { ImageSource, NDArray, TypedArray } from '../io/types.js';

/** Which images a batch is cut from. */
export type PatchRole = 'train' | 'val';

/** Raw (not yet normalized) patches: input (B, C, [Z,] Y, X) and, for supervised training, the target. */
export interface RawBatch {
  input: NDArray<Float32Array>;
  target?: NDArray<Float32Array>;
}

export interface PatchProvider {
  readonly outOfCore: boolean;
  read(role: PatchRole, specs: readonly PatchSpec[], signal?: AbortSignal): Promise<RawBatch>;
}

/** The images of one role: inputs and, when supervised, their targets. */
export interface RoleImages<T> {
  inputs: readonly T[];
  targets?: readonly T[];
}

export type ProviderImages<T> = Record<PatchRole, RoleImages<T>>;

/** Patches cut from images already in memory. */
export class InMemoryPatches implements PatchProvider {
  readonly outOfCore = false;

  constructor(readonly images: ProviderImages<ImageArray>) {}

  async read(role: PatchRole, specs: readonly PatchSpec[]): Promise<RawBatch> {
    const { inputs, targets } = this.images[role];
    return {
      input: extractPatchBatch(inputs, specs),
      target: targets && extractPatchBatch(targets, specs),
    };
  }
}

/**
 * Patches read from the files when a batch needs them, chunk by chunk through one cache of `cacheBytes` shared by
 * all images. Each batch is checked for NaN and infinite pixels (the in-memory mode checks whole images up front).
 */
export class OnDemandPatches implements PatchProvider {
  readonly outOfCore = true;
  readonly cache: ChunkCache;
  readonly #images: ProviderImages<ImageSource>;

  constructor(images: ProviderImages<ImageSource>, cacheBytes: number) {
    this.cache = new ChunkCache(cacheBytes);
    // A validation set withheld from the training images shares their cached sources.
    const wrapped = new Map<ImageSource, ImageSource>();
    const wrap = (sources?: readonly ImageSource[]) =>
      sources?.map((source) => {
        let cached = wrapped.get(source);
        if (!cached) {
          cached = isChunkedSource(source) ? new CachedSource(source, this.cache) : source;
          wrapped.set(source, cached);
        }
        return cached;
      });
    const role = (r: RoleImages<ImageSource>) => ({ inputs: wrap(r.inputs)!, targets: wrap(r.targets) });
    this.#images = { train: role(images.train), val: role(images.val) };
  }

  async read(role: PatchRole, specs: readonly PatchSpec[], signal?: AbortSignal): Promise<RawBatch> {
    const { inputs, targets } = this.#images[role];
    const [input, target] = await Promise.all([
      readPatchBatch(inputs, specs, { signal }),
      targets && readPatchBatch(targets, specs, { signal }),
    ]);
    checkFinite(input, inputs, specs);
    if (target && targets) checkFinite(target, targets, specs);
    return { input, target };
  }
}

function checkFinite(
  batch: NDArray<Float32Array>,
  sources: readonly ImageSource[],
  specs: readonly PatchSpec[],
) {
  const per = batch.data.length / specs.length;
  for (let b = 0; b < specs.length; b++) {
    const bad = countNonFinite(batch.data.subarray(b * per, (b + 1) * per));
    if (bad > 0) {
      const spec = specs[b]!;
      throw new DataError(
        'NonFinitePixels',
        `${bad} pixels of the patch at [${spec.coords}] (sample ${spec.sampleIdx}) are NaN or infinite; ` +
          'remove or replace them before training',
        { file: sources[spec.dataIdx]!.name },
      );
    }
  }
}

export function countNonFinite(data: TypedArray): number {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return 0;
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
  return bad;
}

/**
 * Reads batches ahead of the one being trained on: while the engine runs a step (natively, off the main thread),
 * the next batches' chunks are read and decoded, so a step rarely waits on I/O.
 */
export class BatchPrefetcher<T> {
  readonly #pending: Promise<T>[] = [];
  #next = 0;

  constructor(
    private readonly batches: readonly (readonly PatchSpec[])[],
    private readonly read: (specs: readonly PatchSpec[]) => Promise<T>,
    private readonly depth = 2,
  ) {
    this.#fill();
  }

  /** The next batch; throws what reading it threw. */
  async next(): Promise<T> {
    const value = this.#pending.shift();
    if (!value) throw new RangeError('no batches left');
    this.#fill();
    return value;
  }

  #fill(): void {
    while (this.#pending.length < this.depth && this.#next < this.batches.length) {
      const read = this.read(this.batches[this.#next++]!);
      // Batches read ahead and then not used (a step limit ended the epoch) must not fail the process.
      read.catch(() => undefined);
      this.#pending.push(read);
    }
  }
}
