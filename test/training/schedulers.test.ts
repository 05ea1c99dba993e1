import { describe, expect, it } from 'vitest';
import { EarlyStopping, LrScheduler } from '../../src/training/index.js';

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
