import { z } from 'zod';
import { AlgorithmConfigSchema, isSelfSupervised, predictionChannels } from './algorithm.js';
import { type RecognisedShape, recognisedShape } from './careamicsVersions.js';
import { DataConfigSchema, isDataConfig3D } from './data.js';
import { ConfigError, type ConfigIssue, formatPath, show, toConfigIssues } from './errors.js';
import { migrateLegacyConfig } from './legacy.js';
import { normalizationSizeIssues } from './normalization.js';
import { defaultTrainingConfig, TrainingConfigSchema } from './training.js';

/** The configuration version written; older ones are read through `migrateLegacyConfig`. */
export const CONFIG_VERSION = '0.3.0';

const ExperimentName = z.string().superRefine((name, ctx) => {
  if (name.trim().length === 0) ctx.addIssue({ code: 'custom', message: 'must not be empty' });
  else if (!/^[a-zA-Z0-9_\- ]*$/.test(name))
    ctx.addIssue({
      code: 'custom',
      message: `may only contain letters, digits, underscores, dashes and spaces, got ${show(name)}`,
    });
});

const ConfigurationObject = z
  .object({
    version: z.literal(CONFIG_VERSION).default(CONFIG_VERSION),
    /** Names logs and checkpoints. */
    experiment_name: ExperimentName,
    algorithm_config: AlgorithmConfigSchema,
    data_config: DataConfigSchema,
    /** Defaults per algorithm (see `defaultTrainingConfig`). */
    training_config: TrainingConfigSchema.optional(),
  })
  .transform((c) => ({
    ...c,
    training_config:
      c.training_config ??
      defaultTrainingConfig(c.algorithm_config.algorithm, {
        monitorMetric: isSelfSupervised(c.algorithm_config) ? c.algorithm_config.monitor_metric : 'val_loss',
      }),
  }));

type Checked = z.infer<typeof ConfigurationObject>;

/** The cross-checks of CAREamics' `Configuration` (and `N2VConfiguration`), each naming the field at fault. */
function crossCheck(c: Checked, ctx: z.core.$RefinementCtx): void {
  const add = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const { algorithm_config: alg, data_config: data } = c;
  const model = alg.model;

  const data3D = isDataConfig3D(data);
  if (data3D !== (model.conv_dims === 3))
    add(
      ['algorithm_config', 'model', 'conv_dims'],
      `must be ${data3D ? 3 : 2} for ${data3D ? '3D' : '2D'} data (axes "${data.axes}", data_type "${data.data_type}"), got ${model.conv_dims}`,
    );

  if ('patch_size' in data.patching) {
    const factor = 2 ** model.depth;
    const patch = data.patching.patch_size;
    if (patch.some((p) => p % factor !== 0))
      add(
        ['data_config', 'patching', 'patch_size'],
        `must be divisible by 2**depth=${factor}, got ${show(patch)}`,
      );
  }

  if (data.channels !== null && data.channels.length !== model.in_channels)
    add(
      ['data_config', 'channels'],
      `selects ${data.channels.length} channel(s) but algorithm_config.model.in_channels is ${model.in_channels}`,
    );
  if (!data.axes.includes('C') && model.in_channels !== 1)
    add(
      ['algorithm_config', 'model', 'in_channels'],
      `must be 1 when axes "${data.axes}" have no C, got ${model.in_channels}`,
    );

  for (const i of normalizationSizeIssues(data.normalization, model.in_channels, predictionChannels(alg)))
    add(['data_config', 'normalization', ...i.path], i.message);

  if (isSelfSupervised(alg)) {
    if (data.target_axes !== null)
      add(
        ['data_config', 'target_axes'],
        `must be null for ${alg.algorithm.toUpperCase()}, which has no targets`,
      );
    if (data.mode === 'training' && 'patch_size' in data.patching) {
      const area = data.patching.patch_size.reduce((a, b) => a * b, 1);
      const perc = alg.n2v_config.masked_pixel_percentage;
      if (100 / perc > area)
        add(
          ['algorithm_config', 'n2v_config', 'masked_pixel_percentage'],
          `${perc}% masks less than one pixel per patch of ${show(data.patching.patch_size)}; use at least ${100 / area}% or a larger patch`,
        );
    }
    if (data.mode === 'training' && data.n_val_patches === 0 && alg.monitor_metric === 'val_loss')
      add(
        ['algorithm_config', 'monitor_metric'],
        'must be "train_loss" or "train_loss_epoch" when data_config.n_val_patches is 0 (no validation data)',
      );
  }
}

/** CAREamics' `Configuration`: algorithm + data + training, with defaults and cross-checks. */
export const ConfigurationSchema = ConfigurationObject.superRefine(crossCheck);

export type Configuration = z.infer<typeof ConfigurationSchema>;
/** What `parseConfiguration` accepts: CAREamics field names, defaults left out. */
export type ConfigurationInput = z.input<typeof ConfigurationSchema>;

/** Advice that does not make the configuration invalid (CAREamics raises these as Python warnings). */
export function configurationWarnings(c: Configuration): string[] {
  const out: string[] = [];
  const { algorithm_config: alg, data_config: data } = c;
  if (alg.model.use_batch_norm && data.batch_size < 8)
    out.push(
      `data_config.batch_size: batch normalization with batch size ${data.batch_size} may be unreliable; use at least 8 or set algorithm_config.model.use_batch_norm to false`,
    );
  if (data.train_dataloader_params.shuffle === false)
    out.push('data_config.train_dataloader_params.shuffle: false may lower the quality of results');
  const norm = data.normalization;
  if (norm.name !== 'none' && norm.skip_target) {
    const targets = Object.entries(norm).filter(([k, v]) => k.startsWith('target_') && v !== null);
    if (targets.length > 0)
      out.push(
        `data_config.normalization.skip_target: target statistics (${targets.map(([k]) => k).join(', ')}) are ignored`,
      );
  }
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields of `input` that parsing dropped (unknown to the schema), as `path: unknown field, ignored`. */
function droppedFields(input: unknown, output: unknown, path: PropertyKey[], out: string[]): void {
  if (Array.isArray(input) && Array.isArray(output)) {
    input.forEach((v, i) => {
      droppedFields(v, output[i], [...path, i], out);
    });
    return;
  }
  if (!isPlainObject(input) || !isPlainObject(output)) return;
  for (const [key, value] of Object.entries(input)) {
    if (!(key in output)) out.push(`${formatPath([...path, key])}: unknown field, ignored`);
    else droppedFields(value, output[key], [...path, key], out);
  }
}

/**
 * Validates a configuration object (as read from YAML or JSON, CAREamics field names) and fills in defaults.
 * Older CAREamics shapes are read too (see `migrateLegacyConfig`); `recognised` names the CAREamics releases whose
 * shape the input has and its config version. Throws `ConfigError` listing every issue.
 */
export function parseConfiguration(input: unknown): {
  config: Configuration;
  warnings: string[];
  recognised: RecognisedShape;
} {
  const migrated = migrateLegacyConfig(input);
  const result = ConfigurationSchema.safeParse(migrated.value);
  const schemaIssues = result.success ? [] : toConfigIssues(result.error.issues, migrated.value);
  if (!result.success || migrated.issues.length > 0)
    throw new ConfigError([...migrated.issues, ...schemaIssues], { cause: result.error });
  const dropped: string[] = [];
  droppedFields(migrated.value, result.data, [], dropped);
  return {
    config: result.data,
    warnings: [...migrated.warnings, ...dropped, ...configurationWarnings(result.data)],
    recognised: recognisedShape(input),
  };
}

/** Issues of `input` without throwing; empty when it is valid. */
export function configurationIssues(input: unknown): ConfigIssue[] {
  const migrated = migrateLegacyConfig(input);
  const result = ConfigurationSchema.safeParse(migrated.value);
  return [...migrated.issues, ...(result.success ? [] : toConfigIssues(result.error.issues, migrated.value))];
}
