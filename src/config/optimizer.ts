import { z } from 'zod';
import { show } from './errors.js';

/**
 * Optimizer and learning-rate scheduler configs, as CAREamics' `config/lightning/optimizer_configs.py`.
 * `parameters` are PyTorch's keyword arguments; an empty dict means PyTorch's defaults, which
 * `resolveOptimizer` / `resolveLrScheduler` fill in.
 */

export const OPTIMIZERS = ['Adam', 'SGD', 'Adamax', 'AdamW'] as const;
export const LR_SCHEDULERS = ['ReduceLROnPlateau', 'StepLR', 'CosineAnnealingLR'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type LrSchedulerName = (typeof LR_SCHEDULERS)[number];

type Kind = 'number' | 'boolean' | 'pair' | 'any' | readonly string[];

// Keyword arguments of the torch.optim classes (their signatures, less `params`).
const ADAM_PARAMS: Record<string, Kind> = {
  lr: 'number',
  betas: 'pair',
  eps: 'number',
  weight_decay: 'number',
  amsgrad: 'boolean',
  foreach: 'any',
  maximize: 'boolean',
  capturable: 'boolean',
  differentiable: 'boolean',
  fused: 'any',
};
const OPTIMIZER_PARAMS: Record<OptimizerName, Record<string, Kind>> = {
  Adam: { ...ADAM_PARAMS, decoupled_weight_decay: 'boolean' },
  AdamW: ADAM_PARAMS,
  Adamax: {
    lr: 'number',
    betas: 'pair',
    eps: 'number',
    weight_decay: 'number',
    foreach: 'any',
    maximize: 'boolean',
    differentiable: 'boolean',
    capturable: 'boolean',
  },
  SGD: {
    lr: 'number',
    momentum: 'number',
    dampening: 'number',
    weight_decay: 'number',
    nesterov: 'boolean',
    maximize: 'boolean',
    foreach: 'any',
    differentiable: 'boolean',
    fused: 'any',
  },
};
const SCHEDULER_PARAMS: Record<LrSchedulerName, Record<string, Kind>> = {
  ReduceLROnPlateau: {
    mode: ['min', 'max'],
    factor: 'number',
    patience: 'number',
    threshold: 'number',
    threshold_mode: ['rel', 'abs'],
    cooldown: 'number',
    min_lr: 'number',
    eps: 'number',
    verbose: 'any',
  },
  StepLR: { step_size: 'number', gamma: 'number', last_epoch: 'number', verbose: 'any' },
  CosineAnnealingLR: { T_max: 'number', eta_min: 'number', last_epoch: 'number', verbose: 'any' },
};

function kindMismatch(kind: Kind, v: unknown): string | undefined {
  if (typeof kind !== 'string') {
    return kind.includes(v as string) ? undefined : `expected one of ${kind.map((k) => show(k)).join(', ')}`;
  }
  switch (kind) {
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : 'expected a number';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'expected a boolean';
    case 'pair':
      return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')
        ? undefined
        : 'expected two numbers';
    case 'any':
      return undefined;
  }
}

function checkParameters(
  known: Record<string, Kind>,
  owner: string,
  params: Record<string, unknown>,
  ctx: z.core.$RefinementCtx,
): void {
  for (const [key, value] of Object.entries(params)) {
    const kind = known[key];
    if (kind === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['parameters', key],
        message: `unknown parameter for ${owner}; expected one of ${Object.keys(known).join(', ')}`,
      });
      continue;
    }
    const problem = kindMismatch(kind, value);
    if (problem)
      ctx.addIssue({ code: 'custom', path: ['parameters', key], message: `${problem}, got ${show(value)}` });
  }
}

const Parameters = z.record(z.string(), z.unknown());

export const OptimizerConfigSchema = z
  .object({
    name: z.enum(OPTIMIZERS).default('Adam'),
    /** PyTorch keyword arguments; `{}` means PyTorch's defaults (Adam: lr 1e-3). */
    parameters: Parameters.default(() => ({})),
  })
  .superRefine((opt, ctx) => {
    checkParameters(OPTIMIZER_PARAMS[opt.name], opt.name, opt.parameters, ctx);
    if (opt.name === 'SGD' && !('lr' in opt.parameters))
      ctx.addIssue({ code: 'custom', path: ['parameters', 'lr'], message: 'SGD requires `lr`' });
  });

export const LrSchedulerConfigSchema = z
  .object({
    name: z.enum(LR_SCHEDULERS).default('ReduceLROnPlateau'),
    /** PyTorch keyword arguments; `{}` means PyTorch's defaults (ReduceLROnPlateau: factor 0.1, patience 10). */
    parameters: Parameters.default(() => ({})),
  })
  .superRefine((s, ctx) => {
    checkParameters(SCHEDULER_PARAMS[s.name], s.name, s.parameters, ctx);
    if (s.name === 'StepLR' && !('step_size' in s.parameters))
      ctx.addIssue({
        code: 'custom',
        path: ['parameters', 'step_size'],
        message: 'StepLR requires `step_size`',
      });
    const tMax = s.parameters['T_max'];
    if (s.name === 'CosineAnnealingLR' && typeof tMax === 'number' && !(Number.isInteger(tMax) && tMax > 0))
      ctx.addIssue({
        code: 'custom',
        path: ['parameters', 'T_max'],
        message: `T_max must be a positive whole number of epochs, got ${show(tMax)}`,
      });
  });

export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>;
export type LrSchedulerConfig = z.infer<typeof LrSchedulerConfigSchema>;

/** An optimizer with every PyTorch default filled in. */
export type ResolvedOptimizer =
  | {
      name: 'Adam' | 'AdamW' | 'Adamax';
      lr: number;
      betas: [number, number];
      eps: number;
      weight_decay: number;
      amsgrad: boolean;
      maximize: boolean;
    }
  | {
      name: 'SGD';
      lr: number;
      momentum: number;
      dampening: number;
      weight_decay: number;
      nesterov: boolean;
      maximize: boolean;
    };

/** A scheduler with every PyTorch default filled in. */
export type ResolvedLrScheduler =
  | {
      name: 'ReduceLROnPlateau';
      mode: 'min' | 'max';
      factor: number;
      patience: number;
      threshold: number;
      threshold_mode: 'rel' | 'abs';
      cooldown: number;
      min_lr: number;
      eps: number;
    }
  | { name: 'StepLR'; step_size: number; gamma: number }
  /**
   * PyTorch's cosine annealing over `T_max` epochs, stepped per epoch. careamics-js extension: with `T_max` null
   * (left out) the learning rate follows the cosine step by step over the whole run, to whichever of
   * max_epochs, max_steps or max_time ends it first — the schedule for a fixed time budget.
   */
  | { name: 'CosineAnnealingLR'; T_max: number | null; eta_min: number };

/** The optimizer's hyperparameters with PyTorch's defaults where `parameters` leaves them out. */
export function resolveOptimizer(opt: OptimizerConfig): ResolvedOptimizer {
  const p = opt.parameters as Record<string, never>;
  if (opt.name === 'SGD') {
    return {
      name: 'SGD',
      lr: p.lr ?? 1e-3,
      momentum: p.momentum ?? 0,
      dampening: p.dampening ?? 0,
      weight_decay: p.weight_decay ?? 0,
      nesterov: p.nesterov ?? false,
      maximize: p.maximize ?? false,
    };
  }
  return {
    name: opt.name,
    lr: p.lr ?? (opt.name === 'Adamax' ? 2e-3 : 1e-3),
    betas: p.betas ?? [0.9, 0.999],
    eps: p.eps ?? 1e-8,
    weight_decay: p.weight_decay ?? (opt.name === 'AdamW' ? 1e-2 : 0),
    amsgrad: p.amsgrad ?? false,
    maximize: p.maximize ?? false,
  };
}

/** The scheduler's settings with PyTorch's defaults where `parameters` leaves them out. */
export function resolveLrScheduler(s: LrSchedulerConfig): ResolvedLrScheduler {
  const p = s.parameters as Record<string, never>;
  if (s.name === 'StepLR') return { name: 'StepLR', step_size: p.step_size, gamma: p.gamma ?? 0.1 };
  if (s.name === 'CosineAnnealingLR')
    return { name: 'CosineAnnealingLR', T_max: p.T_max ?? null, eta_min: p.eta_min ?? 0 };
  return {
    name: 'ReduceLROnPlateau',
    mode: p.mode ?? 'min',
    factor: p.factor ?? 0.1,
    patience: p.patience ?? 10,
    threshold: p.threshold ?? 1e-4,
    threshold_mode: p.threshold_mode ?? 'rel',
    cooldown: p.cooldown ?? 0,
    min_lr: p.min_lr ?? 0,
    eps: p.eps ?? 1e-8,
  };
}
