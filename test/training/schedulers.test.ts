import { describe, expect, it } from 'vitest';
import { createN2VConfig, resolveLrScheduler } from '../../src/config/index.js';
import type { Model } from '../../src/engine/index.js';
import { EarlyStopping, LrScheduler, Trainer } from '../../src/training/index.js';
import { source } from './synthetic.js';

const plateau = {
  name: 'ReduceLROnPlateau',
  mode: 'min',
  factor: 0.1,
  patience: 2,
  threshold: 1e-4,
  threshold_mode: 'rel',
  cooldown: 0,
  min_lr: 0,
  eps: 1e-8,
} as const;

describe('LrScheduler', () => {
  it('ReduceLROnPlateau cuts the rate after more than `patience` epochs without improvement (PyTorch semantics)', () => {
    const s = new LrScheduler(plateau, 1e-3);
    // PyTorch: 1.0 best; 1.0,1.0 → 2 bad epochs (= patience, no cut); third bad epoch cuts.
    expect([1, 1, 1, 1, 0.5, 0.5, 0.5].map((v) => s.step(v))).toEqual([
      1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-4, 1e-4,
    ]);
    expect(s.step(0.5)).toBeCloseTo(1e-5, 12);
  });

  it('counts an improvement only beyond the relative threshold, and respects min_lr and cooldown', () => {
    const s = new LrScheduler({ ...plateau, patience: 0, cooldown: 1, min_lr: 5e-4 }, 1e-3);
    s.step(1);
    expect(s.step(0.99995)).toBe(5e-4); // within 1e-4 relative: not an improvement
    expect(s.step(2)).toBe(5e-4); // cooldown
    expect(s.step(2)).toBe(5e-4); // clamped at min_lr
  });

  it('StepLR multiplies by gamma every step_size epochs', () => {
    const s = new LrScheduler({ name: 'StepLR', step_size: 2, gamma: 0.5 }, 1);
    expect([0, 0, 0, 0, 0].map((v) => s.step(v))).toEqual([1, 0.5, 0.5, 0.25, 0.25]);
  });

  it('CosineAnnealingLR with T_max follows PyTorch epoch by epoch, rising again past T_max as PyTorch does', () => {
    const s = new LrScheduler({ name: 'CosineAnnealingLR', T_max: 4, eta_min: 0.1 }, 1);
    expect(s.followsRunProgress).toBe(false);
    // torch.optim.lr_scheduler.CosineAnnealingLR(SGD(lr=1), T_max=4, eta_min=0.1), seven epochs.
    const torch = [0.8681980515, 0.55, 0.2318019485, 0.1, 0.2318019485, 0.55, 0.8681980515];
    Array.from({ length: 7 }, () => s.step(0)).forEach((lr, i) => {
      expect(lr).toBeCloseTo(torch[i]!, 9);
    });
  });

  it('CosineAnnealingLR without T_max follows the run: η_0 at the start, the mean half-way, η_min at the end', () => {
    const s = new LrScheduler(resolveLrScheduler({ name: 'CosineAnnealingLR', parameters: {} }), 2e-3);
    expect(s.followsRunProgress).toBe(true);
    expect(s.atProgress(0)).toBe(2e-3);
    expect(s.atProgress(0.5)).toBeCloseTo(1e-3, 15);
    expect(s.atProgress(1)).toBeCloseTo(0, 15);
    expect(s.atProgress(1.3)).toBeCloseTo(0, 15); // a step past a time limit stays at η_min
    expect(s.step(0)).toBeCloseTo(0, 15); // epoch ends leave it to the progress
  });
});

describe('Trainer with a cosine to the end of the run', () => {
  it('anneals step by step to whichever limit ends the run first (here max_steps)', async () => {
    const config = createN2VConfig({
      experimentName: 'cosine',
      dataType: 'array',
      axes: 'YX',
      patchSize: [32, 32],
      batchSize: 4,
      numEpochs: 100,
      lrScheduler: 'CosineAnnealingLR',
      optimizerParams: { lr: 1e-2 },
      trainerParams: { max_steps: 20 },
    });
    const lrs: number[] = [];
    const model = {
      learningRate: 1e-2,
      trainStep: async (_batch: unknown, lr: number) => {
        lrs.push(lr);
        return 1;
      },
      evaluate: async () => ({ loss: 1 }),
      syncState: async () => undefined,
      runtime: { name: 'stub', device: { name: 'cpu', adapter: 'none: a stub' } },
    } as unknown as Model;
    const image = Float32Array.from({ length: 128 * 128 }, (_, i) => (i * 7919) % 255);
    await new Trainer(config, model).fit({ trainSource: [source(image, [128, 128])] });
    expect(lrs).toHaveLength(20);
    lrs.forEach((lr, step) => {
      expect(lr).toBeCloseTo(5e-3 * (1 + Math.cos((Math.PI * step) / 20)), 12);
    });
  });
});

describe('CosineAnnealingLR config', () => {
  it('takes T_max and eta_min, and names a T_max that is not a positive whole number of epochs', () => {
    const config = (parameters: Record<string, unknown>) =>
      createN2VConfig({
        experimentName: 'x',
        dataType: 'array',
        axes: 'YX',
        patchSize: [32, 32],
        batchSize: 4,
        lrScheduler: 'CosineAnnealingLR',
        lrSchedulerParams: parameters,
      });
    expect(resolveLrScheduler(config({ T_max: 50, eta_min: 1e-6 }).algorithm_config.lr_scheduler)).toEqual({
      name: 'CosineAnnealingLR',
      T_max: 50,
      eta_min: 1e-6,
    });
    expect(() => config({ T_max: 0 })).toThrow(/lr_scheduler\.parameters\.T_max.*positive whole number/s);
    expect(() => config({ T_max: 2.5 })).toThrow(/T_max/);
    expect(() => config({ warmup: 3 })).toThrow(/unknown parameter for CosineAnnealingLR/);
  });
});

describe('EarlyStopping', () => {
  it('stops after `patience` checks without an improvement of min_delta', () => {
    const e = new EarlyStopping({
      monitor: 'val_loss',
      mode: 'min',
      min_delta: 0.1,
      patience: 2,
      check_finite: true,
      stopping_threshold: null,
      divergence_threshold: null,
    });
    expect([1, 0.95, 0.5, 0.45].map((v) => e.check(v))).toEqual([false, false, false, false]);
    expect(e.check(0.5)).toBe(true);
  });

  it('stops on a non-finite value', () => {
    const e = new EarlyStopping({
      monitor: 'val_loss',
      mode: 'min',
      min_delta: 0,
      patience: 5,
      check_finite: true,
      stopping_threshold: null,
      divergence_threshold: null,
    });
    expect(e.check(Number.NaN)).toBe(true);
  });
});
