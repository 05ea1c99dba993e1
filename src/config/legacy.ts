import type { ConfigIssue } from './errors.js';

/**
 * Reads configurations written by CAREamics before v0.3 (v0.0.x to v0.1.0, config version "0.1.0"; v0.2.0, "0.2.0")
 * into the current shape. Each rewrite, or field ignored, is reported as a warning naming the old field; a field
 * careamics-js cannot honour without changing the result is an issue naming it.
 */

type Dict = Record<string, unknown>;

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Moves `from[key]` (when present) to `into[newKey]`, reporting it. */
function move(
  from: Dict,
  key: string,
  into: Dict,
  newKey: string,
  where: string,
  warnings: string[],
  note = '',
): void {
  if (!(key in from)) return;
  if (!(newKey in into)) into[newKey] = from[key];
  delete from[key];
  warnings.push(`${where}.${key}: legacy field, read as ${newKey}${note}`);
}

function migrateData(data: Dict, algorithm: Dict | undefined, warnings: string[]): void {
  const where = 'data_config';
  // v0.0.2 to v0.0.6: keyword arguments of the training DataLoader, which PyTorch does not shuffle by default.
  if (isDict(data.dataloader_params) && !('train_dataloader_params' in data))
    data.train_dataloader_params = { shuffle: false, ...data.dataloader_params };
  move(
    data,
    'dataloader_params',
    data,
    'train_dataloader_params',
    where,
    warnings,
    ' (shuffle: false unless set)',
  );
  if ('patch_size' in data && !('patching' in data)) {
    data.patching = { name: 'stratified', patch_size: data.patch_size };
    delete data.patch_size;
    warnings.push(`${where}.patch_size: legacy field, read as patching {name: stratified, patch_size}`);
  }
  const stats = ['image_means', 'image_stds', 'target_means', 'target_stds'].filter((k) => k in data);
  if (stats.length > 0) {
    if (!('normalization' in data)) {
      const norm: Dict = { name: 'mean_std' };
      for (const k of stats) norm[k.replace('image_', 'input_')] = data[k] ?? null;
      data.normalization = norm;
    }
    for (const k of stats) delete data[k];
    warnings.push(`${where}.${stats.join('/')}: legacy fields, read as normalization {name: mean_std}`);
  }
  if (Array.isArray(data.transforms)) {
    const augmentations: unknown[] = [];
    for (const t of data.transforms) {
      const name = isDict(t) ? t.name : undefined;
      if (name === 'XYFlip' || name === 'XYRandomRotate90') augmentations.push(t);
      else if (name === 'N2VManipulate' && algorithm !== undefined && !('n2v_config' in algorithm)) {
        algorithm.n2v_config = t;
        warnings.push(`${where}.transforms: N2VManipulate read as algorithm_config.n2v_config`);
      } else warnings.push(`${where}.transforms: ${JSON.stringify(name)} dropped (not an augmentation)`);
    }
    if (!('augmentations' in data)) data.augmentations = augmentations;
    delete data.transforms;
    warnings.push(`${where}.transforms: legacy field, read as augmentations`);
  }
}

function migrateN2VManipulate(n2v: Dict, warnings: string[], issues: ConfigIssue[]): void {
  const where = 'algorithm_config.n2v_config';
  // v0.0.10 to v0.0.22. From v0.1.0 on CAREamics always leaves the centre out, as careamics-js does.
  if ('remove_center' in n2v) {
    if (n2v.remove_center === true)
      warnings.push(
        `${where}.remove_center: true is what careamics-js does (centre pixel never drawn), ignored`,
      );
    else
      issues.push({
        path: `${where}.remove_center`,
        message: `${JSON.stringify(n2v.remove_center)} is not supported: careamics-js never draws the centre pixel as its own replacement (remove_center: true)`,
      });
    delete n2v.remove_center;
  }
  if (!('struct_mask_axis' in n2v) && !('struct_mask_span' in n2v)) return;
  const axis = n2v.struct_mask_axis ?? 'none';
  if (!('struct_mask' in n2v)) {
    n2v.struct_mask = axis === 'none' ? null : { axes: axis, span: n2v.struct_mask_span ?? 5 };
  }
  delete n2v.struct_mask_axis;
  delete n2v.struct_mask_span;
  warnings.push(`${where}.struct_mask_axis/struct_mask_span: legacy fields, read as struct_mask`);
}

// Trainer arguments that CAREamics v0.0.x kept at the top of `training_config`.
const OLD_TRAINER_FIELDS = [
  'precision',
  'max_steps',
  'check_val_every_n_epoch',
  'enable_progress_bar',
  'accumulate_grad_batches',
  'gradient_clip_val',
  'gradient_clip_algorithm',
];

function migrateTraining(training: Dict, warnings: string[]): void {
  const where = 'training_config';
  if ('lightning_trainer_config' in training) {
    const old = training.lightning_trainer_config;
    if (!('trainer_params' in training)) training.trainer_params = isDict(old) ? { ...old } : {};
    delete training.lightning_trainer_config;
    warnings.push(`${where}.lightning_trainer_config: legacy field, read as trainer_params`);
  }
  const trainerFields = ['num_epochs', ...OLD_TRAINER_FIELDS].filter((k) => k in training);
  if (trainerFields.length > 0) {
    const trainer: Dict = isDict(training.trainer_params) ? training.trainer_params : {};
    training.trainer_params = trainer;
    for (const k of trainerFields) {
      move(
        training,
        k,
        trainer,
        k === 'num_epochs' ? 'max_epochs' : k,
        where,
        warnings,
        ' in trainer_params',
      );
    }
  }
  move(training, 'checkpoint_callback', training, 'checkpoint_params', where, warnings);
  move(training, 'early_stopping_callback', training, 'early_stopping_params', where, warnings);
}

/**
 * Returns a copy of `input` in the current CAREamics shape, what was rewritten or ignored (`warnings`) and the legacy
 * fields that cannot be read (`issues`). `input` is not modified.
 */
export function migrateLegacyConfig(input: unknown): {
  value: unknown;
  warnings: string[];
  issues: ConfigIssue[];
} {
  const warnings: string[] = [];
  const issues: ConfigIssue[] = [];
  if (!isDict(input)) return { value: input, warnings, issues };
  const value = structuredClone(input);
  const algorithm = isDict(value.algorithm_config) ? value.algorithm_config : undefined;
  if (algorithm !== undefined && 'algorithm_type' in algorithm) {
    // v0.0.3 only: "fcn" or "vae", implied by `algorithm`.
    delete algorithm.algorithm_type;
    warnings.push('algorithm_config.algorithm_type: CAREamics 0.0.3 field, implied by algorithm, ignored');
  }
  if (isDict(value.data_config)) migrateData(value.data_config, algorithm, warnings);
  if (algorithm !== undefined && isDict(algorithm.n2v_config))
    migrateN2VManipulate(algorithm.n2v_config, warnings, issues);
  if (isDict(value.training_config)) migrateTraining(value.training_config, warnings);
  if (typeof value.version === 'string' && value.version !== '0.3.0') {
    warnings.push(`version: "${value.version}" read as "0.3.0"`);
    value.version = '0.3.0';
  }
  return { value, warnings, issues };
}
