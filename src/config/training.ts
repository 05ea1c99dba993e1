import { z } from 'zod';
import type { AlgorithmName } from './algorithm.js';
import { ConfigError, show } from './errors.js';

/**
 * CAREamics' `TrainingConfig` (`config/lightning/training_configuration.py`): PyTorch Lightning Trainer,
 * ModelCheckpoint and EarlyStopping keyword arguments, plus the logger. The `resolve*` helpers fill in Lightning's
 * defaults so training code reads plain values.
 */

type Ctx = z.core.$RefinementCtx;
type Kind = 'int' | 'number' | 'boolean' | 'string' | 'any';

// Keyword arguments of lightning.pytorch.Trainer; typed where careamics-js reads them.
const TRAINER_PARAMS: Record<string, Kind> = {
  max_epochs: 'int',
  min_epochs: 'int',
  max_steps: 'int',
  min_steps: 'int',
  max_time: 'any',
  limit_train_batches: 'number',
  limit_val_batches: 'number',
  limit_test_batches: 'number',
  limit_predict_batches: 'number',
  overfit_batches: 'number',
  val_check_interval: 'number',
  check_val_every_n_epoch: 'int',
  num_sanity_val_steps: 'int',
  log_every_n_steps: 'int',
  enable_checkpointing: 'boolean',
  enable_progress_bar: 'boolean',
  enable_model_summary: 'boolean',
  accumulate_grad_batches: 'int',
  gradient_clip_val: 'number',
  gradient_clip_algorithm: 'string',
  deterministic: 'any',
  benchmark: 'any',
  inference_mode: 'boolean',
  use_distributed_sampler: 'boolean',
  profiler: 'any',
  detect_anomaly: 'boolean',
  barebones: 'boolean',
  plugins: 'any',
  sync_batchnorm: 'boolean',
  reload_dataloaders_every_n_epochs: 'int',
  default_root_dir: 'string',
  accelerator: 'any',
  strategy: 'any',
  devices: 'any',
  num_nodes: 'int',
  precision: 'any',
  logger: 'any',
  callbacks: 'any',
  fast_dev_run: 'any',
  model_registry: 'any',
};

// Keyword arguments of lightning.pytorch.callbacks.ModelCheckpoint.
const CHECKPOINT_PARAMS: Record<string, Kind> = {
  dirpath: 'string',
  filename: 'string',
  monitor: 'string',
  verbose: 'boolean',
  save_last: 'any',
  save_top_k: 'int',
  save_on_exception: 'boolean',
  save_weights_only: 'boolean',
  mode: 'string',
  auto_insert_metric_name: 'boolean',
  every_n_train_steps: 'int',
  train_time_interval: 'any',
  every_n_epochs: 'int',
  save_on_train_epoch_end: 'any',
  enable_version_counter: 'boolean',
};

// Keyword arguments of lightning.pytorch.callbacks.EarlyStopping.
const EARLY_STOPPING_PARAMS: Record<string, Kind> = {
  monitor: 'string',
  min_delta: 'number',
  patience: 'int',
  verbose: 'boolean',
  mode: 'string',
  strict: 'boolean',
  check_finite: 'boolean',
  stopping_threshold: 'number',
  divergence_threshold: 'number',
  check_on_train_epoch_end: 'any',
  log_rank_zero_only: 'boolean',
};

const KIND_CHECK: Record<Kind, (v: unknown) => boolean> = {
  int: (v) => v === null || Number.isInteger(v),
  number: (v) => v === null || (typeof v === 'number' && Number.isFinite(v)),
  boolean: (v) => v === null || typeof v === 'boolean',
  string: (v) => v === null || typeof v === 'string',
  any: () => true,
};

function checkKwargs(
  known: Record<string, Kind>,
  owner: string,
  field: string,
  params: Record<string, unknown>,
  ctx: Ctx,
) {
  for (const [key, value] of Object.entries(params)) {
    const kind = known[key];
    if (kind === undefined)
      ctx.addIssue({ code: 'custom', path: [field, key], message: `unknown parameter for ${owner}` });
    else if (!KIND_CHECK[kind](value))
      ctx.addIssue({
        code: 'custom',
        path: [field, key],
        message: `expected ${kind === 'int' ? 'an integer' : `a ${kind}`}, got ${show(value)}`,
      });
  }
}

const Kwargs = z.record(z.string(), z.unknown());

export const LOGGERS = ['wandb', 'tensorboard'] as const;

export const TrainingConfigSchema = z
  .object({
    /** Lightning Trainer arguments: `max_epochs` (factories: 30), `limit_train_batches` (factories' `num_steps`), ... */
    trainer_params: Kwargs.default(() => ({})),
    /** Extra logger besides the CSV one; "none" reads as null. */
    logger: z.preprocess((v) => (v === 'none' ? null : v), z.enum(LOGGERS).nullable().default(null)),
    /** ModelCheckpoint arguments. */
    checkpoint_params: Kwargs.default(() => ({})),
    /** EarlyStopping arguments; null or {} means no early stopping. */
    early_stopping_params: Kwargs.nullable().default(() => ({})),
  })
  .superRefine((t, ctx) => {
    checkKwargs(TRAINER_PARAMS, 'the Lightning Trainer', 'trainer_params', t.trainer_params, ctx);
    try {
      maxTimeSeconds(t.trainer_params['max_time']);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['trainer_params', 'max_time'],
        message: (err as ConfigError).issues[0]!.message,
      });
    }
    checkKwargs(CHECKPOINT_PARAMS, 'ModelCheckpoint', 'checkpoint_params', t.checkpoint_params, ctx);
    if (t.early_stopping_params !== null) {
      checkKwargs(
        EARLY_STOPPING_PARAMS,
        'EarlyStopping',
        'early_stopping_params',
        t.early_stopping_params,
        ctx,
      );
      if (
        Object.keys(t.early_stopping_params).length > 0 &&
        typeof t.early_stopping_params.monitor !== 'string'
      )
        ctx.addIssue({
          code: 'custom',
          path: ['early_stopping_params', 'monitor'],
          message: 'is required by EarlyStopping',
        });
    }
  });

export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;

/** CAREamics' `SupervisedCheckpointing`: top 3 by val_loss plus the last (CARE). */
export const SUPERVISED_CHECKPOINTING = {
  monitor: 'val_loss',
  mode: 'min',
  save_top_k: 3,
  save_last: true,
  auto_insert_metric_name: false,
} as const;

/** CAREamics' `SelfSupervisedCheckpointing`: every 10 epochs, all kept, plus the last (N2V, N2N). */
export const SELF_SUPERVISED_CHECKPOINTING = {
  every_n_epochs: 10,
  save_top_k: -1,
  save_last: true,
  auto_insert_metric_name: false,
} as const;

/**
 * The training config CAREamics uses when a configuration has none (`default_training_dict`): checkpointing per
 * algorithm, early stopping on `monitorMetric` for CARE only, no trainer arguments, no logger.
 */
export function defaultTrainingConfig(
  algorithm: AlgorithmName,
  options: {
    trainerParams?: Record<string, unknown>;
    logger?: 'wandb' | 'tensorboard' | 'none';
    checkpointParams?: Record<string, unknown>;
    earlyStoppingParams?: Record<string, unknown>;
    monitorMetric?: string;
  } = {},
): TrainingConfig {
  const supervised = algorithm === 'care';
  return {
    trainer_params: { ...(options.trainerParams ?? {}) },
    logger: options.logger === undefined || options.logger === 'none' ? null : options.logger,
    checkpoint_params: {
      ...(options.checkpointParams ??
        (supervised ? SUPERVISED_CHECKPOINTING : SELF_SUPERVISED_CHECKPOINTING)),
    },
    early_stopping_params:
      options.earlyStoppingParams ??
      (supervised ? { monitor: options.monitorMetric ?? 'val_loss', mode: 'min' } : null),
  };
}

/** Trainer settings careamics-js honours, with Lightning's defaults. */
export interface ResolvedTrainerParams {
  /** Lightning's default is 1000 when neither max_epochs nor max_steps is set; -1 when only max_steps is. */
  max_epochs: number;
  /** -1: no limit. */
  max_steps: number;
  /** Early stopping cannot end the run before these (Lightning: min_epochs, min_steps; 0 when unset). */
  min_epochs: number;
  min_steps: number;
  /** Batches per epoch: an integer count, or a fraction in (0, 1); null: every batch. */
  limit_train_batches: number | null;
  limit_val_batches: number | null;
  check_val_every_n_epoch: number;
  accumulate_grad_batches: number;
  gradient_clip_val: number | null;
  gradient_clip_algorithm: 'norm' | 'value';
  enable_progress_bar: boolean;
  /** Lightning's `max_time` ("DD:HH:MM:SS" or {days, hours, minutes, seconds}) in seconds; null: no limit. */
  max_time_seconds: number | null;
}

/**
 * Lightning Trainer arguments that would change what training does and that careamics-js does not implement,
 * each with the value that means "off". Training refuses a config that sets one (loading it still works, so a
 * CAREamics model trained with them predicts); hardware arguments (accelerator, devices, precision, …) are
 * ignored, since careamics-js picks its own runtime.
 */
const UNIMPLEMENTED_TRAINER_PARAMS: Record<string, { off: (v: unknown) => boolean; instead: string }> = {
  accumulate_grad_batches: {
    off: (v) => v === null || v === 1,
    instead: 'a larger batch_size gives the gradient of the accumulated batches',
  },
  val_check_interval: {
    off: (v) => v === null || v === 1, // 1 and 1.0 (all batches, the default) are one number here
    instead: 'use check_val_every_n_epoch',
  },
  overfit_batches: { off: (v) => v === null || v === 0, instead: 'use limit_train_batches' },
  fast_dev_run: { off: (v) => v === null || v === false || v === 0, instead: 'use max_steps' },
};

/** Throws a ConfigError naming each trainer argument careamics-js would otherwise ignore. */
export function checkTrainerParamsImplemented(t: TrainingConfig): void {
  const issues = Object.entries(t.trainer_params)
    .filter(
      ([key, value]) => key in UNIMPLEMENTED_TRAINER_PARAMS && !UNIMPLEMENTED_TRAINER_PARAMS[key].off(value),
    )
    .map(([key, value]) => ({
      path: `training_config.trainer_params.${key}`,
      message: `careamics-js does not implement ${key} (got ${show(value)}); remove it: ${UNIMPLEMENTED_TRAINER_PARAMS[key].instead}`,
    }));
  const algorithm = t.trainer_params['gradient_clip_algorithm'];
  if (algorithm !== undefined && algorithm !== null && algorithm !== 'norm' && algorithm !== 'value')
    issues.push({
      path: 'training_config.trainer_params.gradient_clip_algorithm',
      message: `expected "norm" or "value", got ${show(algorithm)}`,
    });
  if (issues.length > 0) throw new ConfigError(issues);
}

/** Seconds in a Lightning `max_time` value. */
export function maxTimeSeconds(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    const parts = value.split(':').map(Number);
    if (parts.length !== 4 || parts.some((v) => !Number.isFinite(v) || v < 0)) {
      throw new ConfigError([
        {
          path: 'training_config.trainer_params.max_time',
          message: `expected "DD:HH:MM:SS", got "${value}"`,
        },
      ]);
    }
    const [days, hours, minutes, seconds] = parts;
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
  }
  const units: Record<string, number> = { days: 86400, hours: 3600, minutes: 60, seconds: 1 };
  const entries = typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : undefined;
  const valid = entries?.every(
    ([key, v]) => key in units && typeof v === 'number' && Number.isFinite(v) && v >= 0,
  );
  if (!entries || !valid) {
    throw new ConfigError([
      {
        path: 'training_config.trainer_params.max_time',
        message: `expected "DD:HH:MM:SS" or {days, hours, minutes, seconds} of non-negative numbers, got ${show(value)}`,
      },
    ]);
  }
  return entries.reduce((total, [key, v]) => total + (v as number) * units[key]!, 0);
}

export function resolveTrainerParams(t: TrainingConfig): ResolvedTrainerParams {
  const p = t.trainer_params as Record<string, never>;
  const maxSteps: number = p.max_steps ?? -1;
  return {
    max_epochs: p.max_epochs ?? (maxSteps === -1 ? 1000 : -1),
    max_steps: maxSteps,
    min_epochs: p.min_epochs ?? 0,
    min_steps: p.min_steps ?? 0,
    limit_train_batches: p.limit_train_batches ?? null,
    limit_val_batches: p.limit_val_batches ?? null,
    check_val_every_n_epoch: p.check_val_every_n_epoch ?? 1,
    accumulate_grad_batches: p.accumulate_grad_batches ?? 1,
    gradient_clip_val: p.gradient_clip_val ?? null,
    gradient_clip_algorithm: p.gradient_clip_algorithm ?? 'norm',
    enable_progress_bar: p.enable_progress_bar ?? true,
    max_time_seconds: maxTimeSeconds(p.max_time),
  };
}

/** Checkpoint settings with Lightning's ModelCheckpoint defaults. */
export interface ResolvedCheckpointParams {
  monitor: string | null;
  mode: 'min' | 'max';
  /** -1: keep all; 0: none; k: best k by `monitor` (the latest k when monitor is null). */
  save_top_k: number;
  save_last: boolean;
  /** Lightning checkpoints every epoch when neither this nor every_n_train_steps is set. */
  every_n_epochs: number | null;
  every_n_train_steps: number | null;
  save_weights_only: boolean;
}

export function resolveCheckpointParams(t: TrainingConfig): ResolvedCheckpointParams {
  const p = t.checkpoint_params as Record<string, never>;
  const everyN: number | null = p.every_n_epochs ?? null;
  const everySteps: number | null = p.every_n_train_steps ?? null;
  return {
    monitor: p.monitor ?? null,
    mode: p.mode ?? 'min',
    save_top_k: p.save_top_k ?? 1,
    save_last: p.save_last === true || p.save_last === 'link',
    every_n_epochs: everyN === null && everySteps === null ? 1 : everyN,
    every_n_train_steps: everySteps,
    save_weights_only: p.save_weights_only ?? false,
  };
}

/** Early-stopping settings with Lightning's EarlyStopping defaults, or null when early stopping is off. */
export interface ResolvedEarlyStoppingParams {
  monitor: string;
  mode: 'min' | 'max';
  min_delta: number;
  patience: number;
  check_finite: boolean;
  stopping_threshold: number | null;
  divergence_threshold: number | null;
}

export function resolveEarlyStoppingParams(t: TrainingConfig): ResolvedEarlyStoppingParams | null {
  const p = t.early_stopping_params as Record<string, never> | null;
  if (p === null || Object.keys(p).length === 0) return null;
  return {
    monitor: p.monitor,
    mode: p.mode ?? 'min',
    min_delta: p.min_delta ?? 0,
    patience: p.patience ?? 3,
    check_finite: p.check_finite ?? true,
    stopping_threshold: p.stopping_threshold ?? null,
    divergence_threshold: p.divergence_threshold ?? null,
  };
}
