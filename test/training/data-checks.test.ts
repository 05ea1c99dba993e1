/**
 * The data and the configuration are checked before training starts: a refusal names the image, the channel or
 * the field, and nothing is written to the run store.
 */
import { describe, expect, it } from 'vitest';
import {
  type Configuration,
  createN2VConfig,
  loadConfigYaml,
  parseConfiguration,
  saveConfigYaml,
} from '../../src/config/index.js';
import { isDataError, RandomPatching, Rng, StratifiedPatching } from '../../src/data/index.js';
import { MemoryStore, Trainer, TrainingSet } from '../../src/training/index.js';
import { stubModel } from './stubModel.js';
import { source } from './synthetic.js';

const varied = (n: number) => Float32Array.from({ length: n }, (_, i) => (i * 7919) % 255);

const n2vConfig = (extra: Record<string, unknown> = {}) =>
  createN2VConfig({
    experimentName: 'checks',
    dataType: 'array',
    axes: 'YX',
    patchSize: [32, 32],
    batchSize: 4,
    numEpochs: 1,
    seed: 5,
    ...extra,
  });

/** Fits with a stub model and a memory store; returns the error, the store and the steps taken. */
async function refusal(config: Configuration, trainSource: ReturnType<typeof source>[]) {
  const store = new MemoryStore();
  const { model, calls } = stubModel();
  const error = await new Trainer(config, model, store).fit({ trainSource }).catch((e) => e);
  return { error, store, steps: calls.train };
}

describe('data checked before training starts', () => {
  it('refuses an image with NaN or infinite pixels, naming the file and the count', async () => {
    const data = varied(64 * 64);
    data[10] = Number.NaN;
    data[20] = Number.POSITIVE_INFINITY;
    data[30] = Number.NaN;
    const { error, store, steps } = await refusal(n2vConfig(), [
      source(varied(64 * 64), [64, 64], 'fine.tif'),
      source(data, [64, 64], 'holes.tif'),
    ]);
    expect(isDataError(error, 'NonFinitePixels'), String(error)).toBe(true);
    expect(error.message).toMatch(/^holes\.tif: 3 of 4096 pixels are NaN or infinite/);
    expect(error.message).not.toMatch(/\n/);
    expect(error.file).toBe('holes.tif');
    expect(steps).toBe(0);
    expect(store.files.size).toBe(0);
  });

  it('refuses a constant image under mean/std normalization, naming the channel', async () => {
    const { error, store, steps } = await refusal(n2vConfig(), [
      source(new Float32Array(64 * 64).fill(0.1), [64, 64], 'flat.tif'),
    ]);
    expect(isDataError(error, 'ZeroVariance'), String(error)).toBe(true);
    expect(error.message).toMatch(/^flat\.tif: channel 0 of the training images is constant/);
    expect(error.channel).toBe(0);
    expect(steps).toBe(0);
    expect(store.files.size).toBe(0);
  });

  it('names the constant channel of a multichannel image', async () => {
    const data = new Float32Array(2 * 64 * 64).fill(7);
    data.set(varied(64 * 64));
    const config = n2vConfig({ axes: 'CYX', nChannels: 2 });
    const { error, store } = await refusal(config, [source(data, [2, 64, 64], 'two.tif', 'CYX')]);
    expect(isDataError(error, 'ZeroVariance'), String(error)).toBe(true);
    expect(error.channel).toBe(1);
    expect(error.message).toMatch(/channel 1 .*constant \(value 7\)/);
    expect(store.files.size).toBe(0);
  });

  it('refuses an image smaller than the patch, naming the file, its shape and the patch size', async () => {
    const { error, store, steps } = await refusal(n2vConfig({ patchSize: [64, 64] }), [
      source(varied(64 * 64), [64, 64], 'fine.tif'),
      source(varied(40 * 80), [40, 80], 'small.tif'),
    ]);
    expect(isDataError(error, 'PatchTooLarge'), String(error)).toBe(true);
    expect(error.message).toBe('small.tif: shape [40, 80] (axes YX) is smaller than the patch size [64, 64]');
    expect(steps).toBe(0);
    expect(store.files.size).toBe(0);
  });
});

describe('configuration fields honoured or refused by name', () => {
  it('honours in_memory: false: patches are read from the sources on demand, and the config round-trips', async () => {
    const config = n2vConfig({ dataType: 'tiff', inMemory: false, nValPatches: 2 });
    expect(loadConfigYaml(saveConfigYaml(config)).config.data_config.in_memory).toBe(false);
    const set = await TrainingSet.load(
      config,
      { trainSource: [source(varied(64 * 64), [64, 64])] },
      new Rng(1),
    );
    expect(set.outOfCore).toBe(true);
    const { error: state, steps } = await refusal(config, [source(varied(64 * 64), [64, 64])]);
    expect(state.epoch).toBe(1);
    expect(steps).toBeGreaterThan(0);
  });

  const withPatching = (name: 'random' | 'stratified') => {
    const config = n2vConfig();
    return parseConfiguration({
      ...config,
      data_config: { ...config.data_config, patching: { ...config.data_config.patching, name } },
    }).config;
  };

  it('patching "random" draws random patches, never over the validation patches', async () => {
    const images = [source(varied(160 * 160), [160, 160])];
    const set = await TrainingSet.load(withPatching('random'), { trainSource: images }, new Rng(1));
    expect(set.patching).toBeInstanceOf(RandomPatching);
    // CAREamics' count: as many patches as a sequential tiling, ceil(160/32)² = 25.
    expect(set.patchesPerEpoch).toBe(25);
    expect(set.valSpecs).toHaveLength(8);
    const rng = new Rng(2);
    for (let epoch = 0; epoch < 20; epoch++) {
      for (const spec of set.epochSpecs(rng)) {
        for (const val of set.valSpecs) {
          const overlap = spec.coords.every((c, i) => c < val.coords[i] + 32 && val.coords[i] < c + 32);
          expect(overlap).toBe(false);
        }
      }
    }
    const stratified = await TrainingSet.load(
      withPatching('stratified'),
      { trainSource: images },
      new Rng(1),
    );
    expect(stratified.patching).toBeInstanceOf(StratifiedPatching);
  });

  it('trains with patching "random"', async () => {
    const { model, calls } = stubModel();
    const state = await new Trainer(withPatching('random'), model).fit({
      trainSource: [source(varied(128 * 128), [128, 128])],
    });
    expect(state.epoch).toBe(1);
    expect(calls.train).toBe(4);
  });
});
