/**
 * Out-of-core training (`in_memory: false`, or data over the memory budget): patches read from an OME-Zarr on
 * demand give the same run as the images held in memory, resume exactly, and a corrupt chunk stops the run with
 * a one-line error naming it, before any checkpoint is written.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Configuration, createCareConfig, createN2VConfig } from '../../src/config/index.js';
import type { Model } from '../../src/engine/index.js';
import { isIoError } from '../../src/io/errors.js';
import { openImage, writeImage } from '../../src/io/node/files.js';
import { createOmeZarrPath, openOmeZarrPath } from '../../src/io/node/zarr.js';
import { CAREamist } from '../../src/node.js';
import type { PreparedBatch } from '../../src/training/dataset.js';
import { MemoryStore, Trainer } from '../../src/training/index.js';
import { addNoise, cleanImage } from './synthetic.js';

let tmp: string;
const SHAPE = [2, 96, 80];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'careamics-ooc-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function writeZarr(name: string, seed: number, chunks = [1, 40, 36]) {
  const path = join(tmp, name);
  const plane = SHAPE[1] * SHAPE[2];
  const data = new Float32Array(SHAPE[0] * plane);
  for (let s = 0; s < SHAPE[0]; s++)
    data.set(addNoise(cleanImage(SHAPE[1], SHAPE[2]), 20, seed + s), s * plane);
  const writer = await createOmeZarrPath(path, { shape: SHAPE, dtype: 'float32', axes: 'SYX', chunks });
  await writer.write({ start: [0, 0, 0], stop: SHAPE }, data);
  await writer.close();
  return path;
}

/** A model that records what it is given; its loss is a checksum of the batch, so runs can be compared. */
function recordingModel() {
  const batches: number[][] = [];
  const checksum = (b: PreparedBatch) => {
    let sum = 0;
    for (let i = 0; i < b.input.length; i++)
      sum += b.input[i] * ((i % 97) + 1) + b.target[i] * ((i % 89) + 1);
    if (b.mask) for (let i = 0; i < b.mask.length; i++) sum += b.mask[i] * (i % 13);
    return sum;
  };
  const model = {
    learningRate: 1e-3,
    trainStep: async (b: PreparedBatch) => {
      batches.push([checksum(b), ...b.shape]);
      return checksum(b) / b.input.length;
    },
    evaluate: async (b: PreparedBatch) => ({ loss: checksum(b) / b.input.length }),
    syncState: async () => undefined,
    runtime: { name: 'stub', device: { name: 'cpu', adapter: 'none: a stub' } },
    saveState: (metadata: Record<string, string>) => new TextEncoder().encode(JSON.stringify(metadata)),
    loadState: (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)),
  } as unknown as Model;
  return { model, batches };
}

const n2v = (extra: Record<string, unknown> = {}) =>
  createN2VConfig({
    experimentName: 'ooc',
    dataType: 'tiff',
    axes: 'SYX',
    patchSize: [32, 32],
    batchSize: 4,
    numEpochs: 2,
    seed: 11,
    ...extra,
  });

async function fitRecorded(config: Configuration, path: string, options = {}, store = new MemoryStore()) {
  const { model, batches } = recordingModel();
  const trainer = new Trainer(config, model, store);
  const state = await trainer.fit({ trainSource: [await openOmeZarrPath(path, { axes: 'SYX' })] }, options);
  return { state, batches, store };
}

describe('out-of-core training', () => {
  it('gives the batches, statistics and losses of in-memory training for the same seed', async () => {
    const path = await writeZarr('same.zarr', 1);
    const inMemory = await fitRecorded(n2v(), path);
    const messages: string[] = [];
    const outOfCore = await fitRecorded(n2v({ inMemory: false }), path, {
      onMessage: (m: string) => messages.push(m),
    });
    expect(messages).toEqual([]);
    expect(outOfCore.batches.length).toBeGreaterThanOrEqual(4);
    expect(outOfCore.batches).toEqual(inMemory.batches);
    expect(outOfCore.state.stats).toEqual(inMemory.state.stats);
    expect(outOfCore.state.history.map((r) => [r.train_loss, r.val_loss])).toEqual(
      inMemory.state.history.map((r) => [r.train_loss, r.val_loss]),
    );
  });

  it('reads patches from a TIFF file on demand (strips as chunks) with the batches of in-memory training', async () => {
    const zarr = await openOmeZarrPath(await writeZarr('for-tiff.zarr', 7), { axes: 'SYX' });
    const path = join(tmp, 'stack.tif');
    await writeImage(path, await zarr.read(), { axes: 'SYX' });
    const batchesOf = async (inMemory: boolean) => {
      const { model, batches } = recordingModel();
      await new Trainer(n2v({ inMemory }), model).fit({
        trainSource: [await openImage(path, { axes: 'SYX' })],
      });
      return batches;
    };
    const inMemory = await batchesOf(true);
    expect(await batchesOf(false)).toEqual(inMemory);
  });

  it('reads given validation images on demand too, with the validation losses of in-memory training', async () => {
    const train = await writeZarr('train-v.zarr', 8);
    const val = await writeZarr('val-v.zarr', 9, [1, 32, 32]);
    const trainWithValidation = async (inMemory: boolean) => {
      const { model, batches } = recordingModel();
      const state = await new Trainer(n2v({ inMemory }), model).fit({
        trainSource: [await openOmeZarrPath(train, { axes: 'SYX' })],
        valSource: [await openOmeZarrPath(val, { axes: 'SYX' })],
      });
      return { batches, valLosses: state.history.map((r) => r.val_loss) };
    };
    const inMemory = await trainWithValidation(true);
    const outOfCore = await trainWithValidation(false);
    expect(inMemory.valLosses.every((v) => v !== null)).toBe(true);
    expect(outOfCore).toEqual(inMemory);
  });

  it('switches to out of core, with a one-line notice, when the data exceeds the memory budget', async () => {
    const path = await writeZarr('budget.zarr', 2);
    const messages: string[] = [];
    const small = await fitRecorded(n2v(), path, {
      memoryBudgetBytes: 10_000,
      onMessage: (m: string) => messages.push(m),
    });
    expect(messages).toEqual([
      'the training data (60 KiB) exceeds the memory budget (9.8 KiB): training out of core, reading patches from the files on demand',
    ]);
    const large = await fitRecorded(n2v(), path, {
      memoryBudgetBytes: 2 ** 30,
      onMessage: (m: string) => messages.push(m),
    });
    expect(messages).toHaveLength(1);
    expect(small.batches).toEqual(large.batches);
  });

  it('resumes exactly: the epochs after a stop repeat those of an uninterrupted run', async () => {
    const path = await writeZarr('resume.zarr', 3);
    const config = (epochs: number) => n2v({ inMemory: false, numEpochs: epochs });
    const uninterrupted = await fitRecorded(config(3), path);
    const first = await fitRecorded(config(1), path);
    const resumed = await fitRecorded(config(3), path, { resume: true }, first.store);
    expect(resumed.state.epoch).toBe(3);
    expect([...first.batches, ...resumed.batches]).toEqual(uninterrupted.batches);
    expect(resumed.state.history).toHaveLength(3);
    expect(resumed.state.history.map((r) => r.train_loss)).toEqual(
      uninterrupted.state.history.map((r) => r.train_loss),
    );
  });

  it('stops on a chunk that fails to decode with one line naming the file and the chunk, saving nothing', async () => {
    const path = await writeZarr('corrupt.zarr', 4);
    const chunk = join(path, '0', 'c', '1', '1', '1');
    writeFileSync(chunk, Buffer.alloc(statSync(chunk).size, 0x5a));
    // Found by the statistics pass…
    const stats = await fitRecorded(n2v({ inMemory: false }), path).catch((e) => e);
    expect(isIoError(stats, 'CorruptData'), String(stats)).toBe(true);
    expect(stats.message).toMatch(/corrupt\.zarr: cannot decode chunk \[1, 1, 1\] of array \/0: /);
    expect(stats.message).not.toMatch(/\n/);
    // …and, with statistics given, by the patch reads while training: no checkpoint is written.
    const store = new MemoryStore();
    const configured = n2v({ inMemory: false });
    configured.data_config.normalization = {
      name: 'mean_std',
      input_means: [110],
      input_stds: [50],
    } as never;
    const during = await fitRecorded(configured, path, {}, store).catch((e) => e);
    expect(isIoError(during, 'CorruptData'), String(during)).toBe(true);
    expect(during.message).toMatch(/corrupt\.zarr: cannot decode chunk \[1, 1, 1\] of array \/0: /);
    expect([...store.files.keys()].filter((f) => f.includes('checkpoint'))).toEqual([]);
  });

  it('trains CARE pairs out of core with the losses of in-memory training (real model)', async () => {
    const source = await writeZarr('care-in.zarr', 5);
    const target = await writeZarr('care-gt.zarr', 50, [1, 96, 80]);
    const run = async (inMemory: boolean) => {
      const config = createCareConfig({
        experimentName: 'care-ooc',
        dataType: 'tiff',
        axes: 'SYX',
        patchSize: [32, 32],
        batchSize: 4,
        numEpochs: 2,
        seed: 6,
        inMemory,
        modelParams: { depth: 1, num_channels_init: 8 },
      });
      const careamist = new CAREamist(config);
      await careamist.train({
        trainSource: [await openOmeZarrPath(source, { axes: 'SYX' })],
        trainTarget: [await openOmeZarrPath(target, { axes: 'SYX' })],
      });
      return careamist.getLosses();
    };
    const inMemory = await run(true);
    expect(await run(false)).toEqual(inMemory);
    expect(readdirSync(tmp)).toContain('care-gt.zarr');
  });
});
