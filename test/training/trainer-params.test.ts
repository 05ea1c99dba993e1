/**
 * Lightning Trainer arguments the training loop honours (validation cadence and size, min_epochs) or refuses,
 * checked on a stub model so only the loop runs.
 */
import { describe, expect, it } from 'vitest';
import { createN2VConfig } from '../../src/config/index.js';
import { isCareamicsError } from '../../src/errors.js';
import { MemoryStore, Trainer } from '../../src/training/index.js';
import { stubModel } from './stubModel.js';
import { source } from './synthetic.js';

const image = source(
  Float32Array.from({ length: 128 * 128 }, (_, i) => (i * 7919) % 255),
  [128, 128],
);

const config = (trainerParams: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  createN2VConfig({
    experimentName: 'params',
    dataType: 'array',
    axes: 'YX',
    patchSize: [32, 32],
    batchSize: 4,
    numEpochs: 6,
    trainerParams,
    ...extra,
  });

describe('Trainer honours Lightning trainer arguments', () => {
  it('validates every check_val_every_n_epoch epochs, with limit_val_batches batches', async () => {
    const { model, calls } = stubModel();
    const state = await new Trainer(
      // 8 validation patches in batches of 2: four batches, of which two are used.
      config({ check_val_every_n_epoch: 2, limit_val_batches: 2 }, { batchSize: 2 }),
      model,
    ).fit({ trainSource: [image] });
    expect(state.history.map((r) => r.val_loss)).toEqual([null, 1, null, 1, null, 1]);
    expect(calls.evaluate).toBe(3 * 2);
  });

  it('limit_val_batches 0 turns validation off, and ReduceLROnPlateau then follows the training loss', async () => {
    const { model, calls } = stubModel();
    const c = config({ limit_val_batches: 0 }, { numEpochs: 3, lrSchedulerParams: { patience: 0 } });
    const state = await new Trainer(c, model).fit({ trainSource: [image] });
    expect(state.history.map((r) => r.val_loss)).toEqual([null, null, null]);
    expect(calls.evaluate).toBe(0);
    // The stub's training loss never improves: with patience 0 the second epoch cuts the rate.
    expect(state.history.map((r) => r.lr)).toEqual([1e-3, 1e-3, 1e-4]);
  });

  it('early stopping cannot end the run before min_epochs', async () => {
    const run = async (trainerParams: Record<string, unknown>) => {
      const { model } = stubModel();
      const c = config(trainerParams, { numEpochs: 6 });
      c.training_config.early_stopping_params = { monitor: 'val_loss', mode: 'min', patience: 1 };
      return (await new Trainer(c, model).fit({ trainSource: [image] })).epoch;
    };
    expect(await run({})).toBe(2); // a constant loss stops after patience + 1 epochs
    expect(await run({ min_epochs: 4 })).toBe(4);
  });

  it('counts the time a resumed run already trained towards max_time, as Lightning does', async () => {
    const store = new MemoryStore();
    const first = stubModel(20);
    await new Trainer(config({}, { numEpochs: 3 }), first.model, store).fit({ trainSource: [image] });
    const again = stubModel(20);
    const state = await new Trainer(
      config({ max_time: { seconds: 0.1 } }, { numEpochs: 10 }),
      again.model,
      store,
    ).fit({ trainSource: [image] }, { resume: true });
    expect(first.calls.train).toBeGreaterThanOrEqual(6); // three epochs of ≥ 2 steps of 20 ms: > 0.1 s
    expect(state.epoch).toBe(3);
    expect(again.calls.train).toBe(0);
  });

  it('refuses, naming the field, the arguments that would change training and are not implemented', async () => {
    for (const [params, pattern] of [
      [{ accumulate_grad_batches: 4 }, /trainer_params\.accumulate_grad_batches.*does not implement/],
      [{ val_check_interval: 0.5 }, /trainer_params\.val_check_interval.*check_val_every_n_epoch/],
      [{ overfit_batches: 2 }, /trainer_params\.overfit_batches/],
      [
        { gradient_clip_val: 1, gradient_clip_algorithm: 'max' },
        /gradient_clip_algorithm.*"norm" or "value"/,
      ],
    ] as const) {
      const { model, calls } = stubModel();
      const error = await new Trainer(config(params), model).fit({ trainSource: [image] }).catch((e) => e);
      expect(isCareamicsError(error, 'ConfigError'), String(error)).toBe(true);
      expect(error.message).toMatch(pattern);
      expect(calls.train).toBe(0);
    }
    // The "off" values of the same arguments are fine.
    const { model } = stubModel();
    await new Trainer(
      config({ accumulate_grad_batches: 1, val_check_interval: 1.0 }, { numEpochs: 1 }),
      model,
    ).fit({
      trainSource: [image],
    });
  });
});
