import { z } from 'zod';
import { axesProblem, isAxes3D, isValidCziAxes } from './axes.js';
import { show } from './errors.js';
import { NormalizationConfigSchema } from './normalization.js';
import { generateRandomSeed } from './random.js';

/**
 * CAREamics' `DataConfig` (`config/data/data_config.py`) with its patching strategies, patch filters,
 * augmentations and normalization.
 */

export const DATA_TYPES = ['array', 'tiff', 'zarr', 'czi', 'custom'] as const;
export type DataType = (typeof DATA_TYPES)[number];
export const DATA_MODES = ['training', 'validating', 'predicting'] as const;

type Ctx = z.core.$RefinementCtx;
const issue = (ctx: Ctx, path: PropertyKey[], message: string) =>
  ctx.addIssue({ code: 'custom', path, message });

const Seed = z.int().positive();
const Probability = z.number().min(0).max(1);

// ---------------------------------------------------------------- augmentations

/** Flips X or Y (one chosen at random among the enabled ones) with probability `p`. */
export const XYFlipConfigSchema = z.object({
  name: z.literal('XYFlip'),
  flip_x: z.boolean().default(true),
  flip_y: z.boolean().default(true),
  p: Probability.default(0.5),
  seed: z.int().nullable().default(null),
});

/** Rotates by 90°·k in YX, k in {1, 2, 3}, with probability `p`. */
export const XYRandomRotate90ConfigSchema = z.object({
  name: z.literal('XYRandomRotate90'),
  p: Probability.default(0.5),
  seed: z.int().nullable().default(null),
});

export const AugmentationConfigSchema = z.discriminatedUnion('name', [
  XYFlipConfigSchema,
  XYRandomRotate90ConfigSchema,
]);

// ---------------------------------------------------------------- patching

const PatchSize = z
  .array(z.int().positive())
  .min(2)
  .max(3)
  .refine((p) => p.length < 2 || p[p.length - 1] === p[p.length - 2], {
    error: (iss) => `must be square in YX, got ${show(iss.input)}`,
  });

const patched = { patch_size: PatchSize };
const seeded = { seed: Seed.nullable().default(null) };

/** Training default: patches from a stratified grid, one epoch ≈ one pass over the data. */
export const StratifiedPatchingConfigSchema = z.object({
  name: z.literal('stratified'),
  ...patched,
  ...seeded,
});
/** Training: uniformly random patches. */
export const RandomPatchingConfigSchema = z.object({ name: z.literal('random'), ...patched, ...seeded });
/** Validation: random patches drawn once. */
export const FixedRandomPatchingConfigSchema = z.object({
  name: z.literal('fixed_random'),
  ...patched,
  ...seeded,
});
/** Prediction: overlapping tiles; overlaps are even and smaller than the tile. */
export const TiledPatchingConfigSchema = z
  .object({ name: z.literal('tiled'), ...patched, overlaps: z.array(z.int().nonnegative()).min(2).max(3) })
  .superRefine((t, ctx) => {
    if (t.overlaps.length !== t.patch_size.length) {
      issue(
        ctx,
        ['overlaps'],
        `must have as many dimensions as patch_size (${t.patch_size.length}), got ${t.overlaps.length}`,
      );
      return;
    }
    if (t.overlaps.some((o, i) => o >= t.patch_size[i]!))
      issue(
        ctx,
        ['overlaps'],
        `must be smaller than patch_size ${show(t.patch_size)}, got ${show(t.overlaps)}`,
      );
    if (t.overlaps.some((o) => o % 2 !== 0))
      issue(ctx, ['overlaps'], `must be even, got ${show(t.overlaps)}`);
  });
/** Prediction: whole images. */
export const WholePatchingConfigSchema = z.object({ name: z.literal('whole') });

export const PatchingConfigSchema = z.discriminatedUnion('name', [
  RandomPatchingConfigSchema,
  FixedRandomPatchingConfigSchema,
  StratifiedPatchingConfigSchema,
  TiledPatchingConfigSchema,
  WholePatchingConfigSchema,
]);

// ---------------------------------------------------------------- patch filters

const filterBase = {
  /** Channel the filter looks at. */
  ref_channel: z.int().nonnegative().default(0),
  /** Probability of still sampling a filtered-out patch. */
  filtered_patch_prob: Probability.default(0.1),
};

/** Rejects patches whose `coverage` fraction of pixels is not above `threshold`; coverage defaults to 1/2**ndims. */
export const MaxPatchFilterConfigSchema = z.object({
  name: z.literal('max'),
  ...filterBase,
  threshold: z.number(),
  coverage: Probability.optional(),
});
export const MeanStdPatchFilterConfigSchema = z.object({
  name: z.literal('mean_std'),
  ...filterBase,
  mean_threshold: z.number(),
  std_threshold: z.number().nullable().default(null),
});
export const ShannonPatchFilterConfigSchema = z.object({
  name: z.literal('shannon'),
  ...filterBase,
  threshold: z.number(),
});
/** Used with training masks; coverage defaults to 1/2**ndims (0.25 in 2D, 0.125 in 3D). */
export const MaskPatchFilterConfigSchema = z.object({
  name: z.literal('mask'),
  ...filterBase,
  coverage: Probability.default(0.25),
});

export const PatchFilterConfigSchema = z.discriminatedUnion('name', [
  MaxPatchFilterConfigSchema,
  MeanStdPatchFilterConfigSchema,
  ShannonPatchFilterConfigSchema,
]);

// ---------------------------------------------------------------- data config

const DataloaderParams = z.record(z.string(), z.unknown());

const defaultFilterCoverage = (is3D: boolean) => 1 / 2 ** (is3D ? 3 : 2);

const DataConfigObject = z.object({
  /** CAREamics requires it; defaults to "training" here, the mode a `Configuration` describes. */
  mode: z.enum(DATA_MODES).default('training'),
  data_type: z.enum(DATA_TYPES),
  /** Subset of STCZYX, with Y and X adjacent; CZI needs SC(Z|T)YX. */
  axes: z.string(),
  /** Axes of the targets when they differ from `axes`. */
  target_axes: z.string().nullable().default(null),
  patching: PatchingConfigSchema,
  /** CAREamics requires it; defaults to per-channel mean/std here, as its factories do. */
  normalization: NormalizationConfigSchema.prefault({ name: 'mean_std' }),
  batch_size: z.int().min(1).default(1),
  /** Defaults to true except for zarr and czi, which cannot be held in memory. */
  in_memory: z.boolean().optional(),
  /** Patches withheld from training for validation (ignored when validation data is given). */
  n_val_patches: z.int().nonnegative().default(8),
  /** Channels to use; null means all. Needs C in `axes`. */
  channels: z
    .union([z.int(), z.array(z.int())])
    .nullable()
    .default(null)
    .transform((c) => (typeof c === 'number' ? [c] : c !== null && c.length === 0 ? null : c)),
  patch_filter: PatchFilterConfigSchema.nullable().default(null),
  /** Defaults to a mask filter (coverage 1/2**ndims) in training mode, null otherwise. */
  mask_filter: MaskPatchFilterConfigSchema.nullable().optional(),
  augmentations: z
    .array(AugmentationConfigSchema)
    .prefault(() => [{ name: 'XYFlip' }, { name: 'XYRandomRotate90' }]),
  train_dataloader_params: DataloaderParams.default(() => ({ shuffle: true })),
  val_dataloader_params: DataloaderParams.default(() => ({})),
  pred_dataloader_params: DataloaderParams.default(() => ({})),
  /** PyTorch dataloader workers; kept for CAREamics compatibility (CAREamics' default is platform dependent). */
  num_workers: z.int().nonnegative().default(0),
  /** Seed of patching and augmentations; a random one is drawn when missing. */
  seed: Seed.default(generateRandomSeed),
});

type DataConfigRaw = z.infer<typeof DataConfigObject>;

function withDerivedDefaults(d: DataConfigRaw) {
  const is3D = isAxes3D(d.axes, d.data_type);
  const coverage = defaultFilterCoverage(is3D);
  const seedIfNull = <T extends { seed: number | null }>(x: T): T =>
    x.seed === null ? { ...x, seed: d.seed } : x;
  // Built field by field so the output keeps CAREamics' field order.
  return {
    mode: d.mode,
    data_type: d.data_type,
    axes: d.axes,
    target_axes: d.target_axes,
    patching: 'seed' in d.patching ? seedIfNull(d.patching) : d.patching,
    normalization: d.normalization,
    batch_size: d.batch_size,
    in_memory: d.in_memory ?? !(d.data_type === 'zarr' || d.data_type === 'czi'),
    n_val_patches: d.n_val_patches,
    channels: d.channels,
    patch_filter:
      d.patch_filter?.name === 'max'
        ? { ...d.patch_filter, coverage: d.patch_filter.coverage ?? coverage }
        : d.patch_filter,
    mask_filter:
      d.mask_filter !== undefined
        ? d.mask_filter
        : d.mode === 'training'
          ? { name: 'mask' as const, ref_channel: 0, filtered_patch_prob: 0.1, coverage }
          : null,
    augmentations: d.augmentations.map(seedIfNull),
    train_dataloader_params: d.train_dataloader_params,
    val_dataloader_params: d.val_dataloader_params,
    pred_dataloader_params: d.pred_dataloader_params,
    num_workers: d.num_workers,
    seed: d.seed,
  };
}

const sampleAxes = (axes: string) =>
  [...axes]
    .filter((a) => a === 'S' || a === 'T')
    .sort()
    .join('');

const withAxes = (axes: string, problem?: string) => problem && `invalid axes "${axes}": ${problem}`;

function checkDataConfig(d: ReturnType<typeof withDerivedDefaults>, ctx: Ctx): void {
  const axesBad = (axes: string) =>
    d.data_type === 'czi'
      ? isValidCziAxes(axes)
        ? undefined
        : `invalid axes "${axes}" for CZI: must be SC(Z|T)YX, with S and C present even if singleton`
      : withAxes(axes, axesProblem(axes));
  const bad = axesBad(d.axes);
  if (bad) issue(ctx, ['axes'], bad);
  if (d.target_axes !== null) {
    const badTarget = axesBad(d.target_axes);
    if (badTarget) issue(ctx, ['target_axes'], badTarget);
    else if (isAxes3D(d.axes, d.data_type) !== isAxes3D(d.target_axes, d.data_type))
      issue(
        ctx,
        ['target_axes'],
        `must have the same spatial dimensions as axes "${d.axes}", got "${d.target_axes}"`,
      );
    else if (sampleAxes(d.axes) !== sampleAxes(d.target_axes))
      issue(
        ctx,
        ['target_axes'],
        `must have the same sample axes (S, T) as axes "${d.axes}", got "${d.target_axes}"`,
      );
  }
  if (d.in_memory && (d.data_type === 'zarr' || d.data_type === 'czi'))
    issue(ctx, ['in_memory'], `not supported for data_type "${d.data_type}"`);
  if (!d.in_memory && d.data_type === 'array')
    issue(ctx, ['in_memory'], 'must be true for data_type "array"');
  if (d.channels !== null) {
    if (!d.axes.includes('C')) issue(ctx, ['channels'], `must be null when C is not in axes "${d.axes}"`);
    if (d.channels.some((c) => c < 0))
      issue(ctx, ['channels'], `must be non-negative, got ${show(d.channels)}`);
    if (new Set(d.channels).size !== d.channels.length)
      issue(ctx, ['channels'], `must not contain duplicates, got ${show(d.channels)}`);
  }
  const allowed = {
    training: ['random', 'stratified'],
    validating: ['fixed_random'],
    predicting: ['tiled', 'whole'],
  }[d.mode];
  if (!allowed.includes(d.patching.name))
    issue(
      ctx,
      ['patching', 'name'],
      `"${d.patching.name}" is not allowed in mode "${d.mode}"; use ${allowed.map((a) => `"${a}"`).join(' or ')}`,
    );
  if (d.mode !== 'training') {
    if (d.patch_filter !== null)
      issue(ctx, ['patch_filter'], `only allowed in mode "training", got "${d.mode}"`);
    if (d.mask_filter !== null)
      issue(ctx, ['mask_filter'], `only allowed in mode "training", got "${d.mode}"`);
  }
  for (const key of ['train_dataloader_params', 'val_dataloader_params', 'pred_dataloader_params'] as const) {
    if ('batch_size' in d[key]) issue(ctx, [key, 'batch_size'], 'set `data_config.batch_size` instead');
  }
  if (!('shuffle' in d.train_dataloader_params))
    issue(ctx, ['train_dataloader_params', 'shuffle'], 'is required');
  if ('patch_size' in d.patching) {
    const expected = isAxes3D(d.axes, d.data_type) ? 3 : 2;
    if (d.patching.patch_size.length !== expected)
      issue(
        ctx,
        ['patching', 'patch_size'],
        `must have ${expected} dimensions for axes "${d.axes}", got ${show(d.patching.patch_size)}`,
      );
  }
  const seen = new Set<string>();
  d.augmentations.forEach((a, i) => {
    if (seen.has(a.name)) issue(ctx, ['augmentations', i], `duplicate augmentation "${a.name}"`);
    seen.add(a.name);
  });
}

/** CAREamics' `DataConfig`; derived defaults (in_memory, mask_filter, seeds) are filled in on parse. */
export const DataConfigSchema = DataConfigObject.transform(withDerivedDefaults).superRefine(checkDataConfig);

export type XYFlipConfig = z.infer<typeof XYFlipConfigSchema>;
export type XYRandomRotate90Config = z.infer<typeof XYRandomRotate90ConfigSchema>;
export type AugmentationConfig = z.infer<typeof AugmentationConfigSchema>;
export type PatchingConfig = z.infer<typeof PatchingConfigSchema>;
export type PatchFilterConfig = z.infer<typeof PatchFilterConfigSchema>;
/** A patch filter as written by hand: defaulted fields may be left out. */
export type PatchFilterConfigInput = z.input<typeof PatchFilterConfigSchema>;
export type MaskPatchFilterConfig = z.infer<typeof MaskPatchFilterConfigSchema>;
export type DataConfig = z.infer<typeof DataConfigSchema>;

/** Whether the data config describes 3D data (Z in axes; Z or T for CZI). */
export function isDataConfig3D(d: Pick<DataConfig, 'axes' | 'data_type'>): boolean {
  return isAxes3D(d.axes, d.data_type);
}
