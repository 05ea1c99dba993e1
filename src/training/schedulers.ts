/**
 * Learning-rate schedulers and early stopping with PyTorch / Lightning semantics. Their state is plain JSON so
 * a resumed run continues exactly.
 */
import type { ResolvedEarlyStoppingParams, ResolvedLrScheduler } from '../config/index.js';

export interface SchedulerState {
  lr: number;
  best: number | null;
  badEpochs: number;
  cooldown: number;
  epochs: number;
}

/** `torch.optim.lr_scheduler.ReduceLROnPlateau` and `StepLR`, stepped once per epoch. */
export class LrScheduler {
  state: SchedulerState;

  constructor(
    private readonly spec: ResolvedLrScheduler,
    initialLr: number,
  ) {
    this.state = { lr: initialLr, best: null, badEpochs: 0, cooldown: 0, epochs: 0 };
  }

  get lr(): number {
    return this.state.lr;
  }

  /** Called at the end of an epoch with the monitored value (ignored by StepLR). */
  step(metric: number): number {
    const s = this.state;
    s.epochs++;
    if (this.spec.name === 'StepLR') {
      if (s.epochs % this.spec.step_size === 0) s.lr *= this.spec.gamma;
      return s.lr;
    }
    const p = this.spec;
    if (s.best === null || this.improves(metric, s.best)) {
      s.best = metric;
      s.badEpochs = 0;
    } else {
      s.badEpochs++;
    }
    if (s.cooldown > 0) {
      s.cooldown--;
      s.badEpochs = 0;
    }
    if (s.badEpochs > p.patience) {
      const reduced = Math.max(s.lr * p.factor, p.min_lr);
      if (s.lr - reduced > p.eps) s.lr = reduced;
      s.cooldown = p.cooldown;
      s.badEpochs = 0;
    }
    return s.lr;
  }

  private improves(value: number, best: number): boolean {
    if (this.spec.name !== 'ReduceLROnPlateau') return false;
    const { mode, threshold, threshold_mode } = this.spec;
    if (mode === 'min')
      return threshold_mode === 'rel' ? value < best * (1 - threshold) : value < best - threshold;
    return threshold_mode === 'rel' ? value > best * (1 + threshold) : value > best + threshold;
  }
}

export interface EarlyStoppingState {
  best: number | null;
  wait: number;
  stopped: boolean;
}

/** Lightning's `EarlyStopping`: stop after `patience` checks without an improvement of `min_delta`. */
export class EarlyStopping {
  state: EarlyStoppingState = { best: null, wait: 0, stopped: false };

  constructor(private readonly params: ResolvedEarlyStoppingParams) {}

  /** Returns true when training should stop. */
  check(value: number): boolean {
    const p = this.params;
    const s = this.state;
    if (p.check_finite && !Number.isFinite(value)) s.stopped = true;
    else if (
      p.stopping_threshold !== null &&
      (p.mode === 'min' ? value < p.stopping_threshold : value > p.stopping_threshold)
    ) {
      s.stopped = true;
    } else if (
      s.best === null ||
      (p.mode === 'min' ? value < s.best - p.min_delta : value > s.best + p.min_delta)
    ) {
      s.best = value;
      s.wait = 0;
    } else if (++s.wait >= p.patience) {
      s.stopped = true;
    }
    return s.stopped;
  }
}
