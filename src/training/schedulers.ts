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

/**
 * `torch.optim.lr_scheduler.ReduceLROnPlateau`, `StepLR` and `CosineAnnealingLR`, stepped once per epoch; a
 * cosine without `T_max` instead follows the run's progress step by step (`followsRunProgress`).
 */
export class LrScheduler {
  state: SchedulerState;

  constructor(
    private readonly spec: ResolvedLrScheduler,
    private readonly initialLr: number,
  ) {
    this.state = { lr: initialLr, best: null, badEpochs: 0, cooldown: 0, epochs: 0 };
  }

  get lr(): number {
    return this.state.lr;
  }

  /** True when the trainer must call `atProgress` before every step. */
  get followsRunProgress(): boolean {
    return this.spec.name === 'CosineAnnealingLR' && this.spec.T_max === null;
  }

  /** Sets the learning rate of a run that is `progress` (0 at the start, 1 at its end) of the way through. */
  atProgress(progress: number): number {
    this.state.lr = this.cosine(Math.min(1, Math.max(0, progress)));
    return this.state.lr;
  }

  /**
   * Called at the end of an epoch with the monitored value (used by ReduceLROnPlateau only, which skips epochs
   * without one, as Lightning does when validation did not run).
   */
  step(metric: number | null): number {
    const s = this.state;
    s.epochs++;
    if (this.spec.name === 'StepLR') {
      if (s.epochs % this.spec.step_size === 0) s.lr *= this.spec.gamma;
      return s.lr;
    }
    if (this.spec.name === 'CosineAnnealingLR') {
      // PyTorch's closed form: past T_max the cosine rises again, as it does there.
      if (this.spec.T_max !== null) s.lr = this.cosine(s.epochs / this.spec.T_max);
      return s.lr;
    }
    const p = this.spec;
    if (metric === null) return s.lr;
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

  /** η_min + (η_0 − η_min)(1 + cos πt)/2. */
  private cosine(t: number): number {
    const etaMin = this.spec.name === 'CosineAnnealingLR' ? this.spec.eta_min : 0;
    return etaMin + ((this.initialLr - etaMin) * (1 + Math.cos(Math.PI * t))) / 2;
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
