import { z } from 'zod';
import { show } from './errors.js';

/**
 * Normalization configs, as CAREamics' `config/data/normalization_config.py`, discriminated on `name`.
 * Statistics are lists with one value per channel (or a single value when `per_channel` is false); a bare number
 * is accepted as a one-element list. `null` statistics are computed from the training data.
 */

// Numeric strings are read as numbers, as pydantic does: legacy CAREamics wrote statistics as '5.0270743e+02'.
const toNumber = (v: unknown) =>
  typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
const Stats = z.preprocess((v) => {
  if (Array.isArray(v)) return v.map(toNumber);
  const n = toNumber(v);
  return typeof n === 'number' ? [n] : v;
}, z.array(z.number()));
const OptionalStats = Stats.nullable().default(null);

type Ctx = z.core.$RefinementCtx;
const issue = (ctx: Ctx, path: PropertyKey[], message: string) =>
  ctx.addIssue({ code: 'custom', path, message });

function checkGlobalSingle(per_channel: boolean, fields: Record<string, number[] | null>, ctx: Ctx): void {
  if (per_channel) return;
  for (const [key, v] of Object.entries(fields)) {
    if (v !== null && v.length !== 1)
      issue(ctx, [key], `global statistics (per_channel=false) must be single-element lists, got ${show(v)}`);
  }
}

/** Both or neither given, same length, and (when `ordered`) lower < upper element-wise. */
function checkPair(
  ctx: Ctx,
  [lowKey, low]: [string, number[] | null],
  [highKey, high]: [string, number[] | null],
  ordered: boolean,
): void {
  if ((low === null) !== (high === null)) {
    issue(ctx, [low === null ? lowKey : highKey], `${lowKey} and ${highKey} must be both given or both null`);
    return;
  }
  if (low === null || high === null) return;
  if (low.length !== high.length) {
    issue(ctx, [highKey], `must have the same length as ${lowKey} (${low.length}), got ${high.length}`);
    return;
  }
  if (!ordered) return;
  low.forEach((l, i) => {
    if (l >= high[i]!) issue(ctx, [lowKey, i], `must be less than ${highKey}[${i}] (${high[i]}), got ${l}`);
  });
}

const common = {
  /** One statistic per channel (true) or one for all channels. */
  per_channel: z.boolean().default(true),
  /** Leave targets unnormalized. */
  skip_target: z.boolean().default(false),
};

/** (x - mean) / std, per channel by default. */
export const MeanStdConfigSchema = z
  .object({
    name: z.literal('mean_std'),
    ...common,
    input_means: OptionalStats,
    input_stds: OptionalStats,
    target_means: OptionalStats,
    target_stds: OptionalStats,
  })
  .superRefine((n, ctx) => {
    const { input_means, input_stds, target_means, target_stds } = n;
    checkGlobalSingle(n.per_channel, { input_means, input_stds, target_means, target_stds }, ctx);
    checkPair(ctx, ['input_means', input_means], ['input_stds', input_stds], false);
    checkPair(ctx, ['target_means', target_means], ['target_stds', target_stds], false);
  });

/** Maps the given quantiles to [0, 1]. */
export const QuantileConfigSchema = z
  .object({
    name: z.literal('quantile'),
    ...common,
    lower_quantiles: Stats.default([0.01]),
    upper_quantiles: Stats.default([0.99]),
    input_lower_quantile_values: OptionalStats,
    input_upper_quantile_values: OptionalStats,
    target_lower_quantile_values: OptionalStats,
    target_upper_quantile_values: OptionalStats,
  })
  .superRefine((n, ctx) => {
    checkGlobalSingle(
      n.per_channel,
      {
        lower_quantiles: n.lower_quantiles,
        upper_quantiles: n.upper_quantiles,
        input_lower_quantile_values: n.input_lower_quantile_values,
        input_upper_quantile_values: n.input_upper_quantile_values,
        target_lower_quantile_values: n.target_lower_quantile_values,
        target_upper_quantile_values: n.target_upper_quantile_values,
      },
      ctx,
    );
    n.lower_quantiles.forEach((q, i) => {
      if (!(q >= 0 && q < 1)) issue(ctx, ['lower_quantiles', i], `must be in [0, 1), got ${q}`);
    });
    n.upper_quantiles.forEach((q, i) => {
      if (!(q > 0 && q <= 1)) issue(ctx, ['upper_quantiles', i], `must be in (0, 1], got ${q}`);
    });
    checkPair(ctx, ['lower_quantiles', n.lower_quantiles], ['upper_quantiles', n.upper_quantiles], true);
    checkPair(
      ctx,
      ['input_lower_quantile_values', n.input_lower_quantile_values],
      ['input_upper_quantile_values', n.input_upper_quantile_values],
      true,
    );
    checkPair(
      ctx,
      ['target_lower_quantile_values', n.target_lower_quantile_values],
      ['target_upper_quantile_values', n.target_upper_quantile_values],
      true,
    );
  });

/** Maps [min, max] to [0, 1]. */
export const MinMaxConfigSchema = z
  .object({
    name: z.literal('min_max'),
    ...common,
    input_mins: OptionalStats,
    input_maxes: OptionalStats,
    target_mins: OptionalStats,
    target_maxes: OptionalStats,
  })
  .superRefine((n, ctx) => {
    const { input_mins, input_maxes, target_mins, target_maxes } = n;
    checkGlobalSingle(n.per_channel, { input_mins, input_maxes, target_mins, target_maxes }, ctx);
    checkPair(ctx, ['input_mins', input_mins], ['input_maxes', input_maxes], true);
    checkPair(ctx, ['target_mins', target_mins], ['target_maxes', target_maxes], true);
  });

/** No normalization. */
export const NoNormConfigSchema = z.object({ name: z.literal('none') });

export const NormalizationConfigSchema = z.discriminatedUnion('name', [
  MeanStdConfigSchema,
  NoNormConfigSchema,
  QuantileConfigSchema,
  MinMaxConfigSchema,
]);

export type MeanStdConfig = z.infer<typeof MeanStdConfigSchema>;
export type QuantileConfig = z.infer<typeof QuantileConfigSchema>;
export type MinMaxConfig = z.infer<typeof MinMaxConfigSchema>;
export type NoNormConfig = z.infer<typeof NoNormConfigSchema>;
export type NormalizationConfig = z.infer<typeof NormalizationConfigSchema>;

/**
 * Channel-count problems of the statistics against the model's input and output channels, as CAREamics'
 * `validate_size`: per-channel input stats need one value per input channel, target stats one per output channel
 * (means and stds, mins and maxes, lower and upper values are already checked to have equal lengths).
 * Paths are relative to the normalization config.
 */
export function normalizationSizeIssues(
  norm: NormalizationConfig,
  nIn: number,
  nOut: number,
): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (norm.name === 'none' || !norm.per_channel) return out;
  const check = (key: string, v: number[] | null, n: number, what: string) => {
    if (v !== null && v.length !== n)
      out.push({ path: [key], message: `needs one value per ${what} channel (${n}), got ${v.length}` });
  };
  const targets = !norm.skip_target;
  if (norm.name === 'mean_std') {
    check('input_means', norm.input_means, nIn, 'input');
    if (targets) check('target_means', norm.target_means, nOut, 'output');
  } else if (norm.name === 'min_max') {
    check('input_mins', norm.input_mins, nIn, 'input');
    if (targets) check('target_mins', norm.target_mins, nOut, 'output');
  } else {
    if (targets && nIn !== nOut)
      out.push({
        path: ['per_channel'],
        message: `per-channel quantile normalization needs as many input as output channels (got ${nIn} and ${nOut}); set per_channel=false or skip_target=true`,
      });
    check('input_lower_quantile_values', norm.input_lower_quantile_values, nIn, 'input');
    if (targets) check('target_lower_quantile_values', norm.target_lower_quantile_values, nOut, 'output');
  }
  return out;
}
