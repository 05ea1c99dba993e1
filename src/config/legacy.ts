/**
 * Reads configurations written by CAREamics before the v0.3 data/training configs (v0.0.x to v0.2, config version
 * "0.1.0") into the current shape. Each rewrite is reported as a warning naming the old field.
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

function migrateN2VManipulate(n2v: Dict, warnings: string[]): void {
  const where = 'algorithm_config.n2v_config';
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

/** Returns a copy of `input` in the current CAREamics shape, and what was rewritten. `input` is not modified. */
export function migrateLegacyConfig(input: unknown): { value: unknown; warnings: string[] } {
  const warnings: string[] = [];
  if (!isDict(input)) return { value: input, warnings };
  const value = structuredClone(input);
  const algorithm = isDict(value.algorithm_config) ? value.algorithm_config : undefined;
  if (isDict(value.data_config)) migrateData(value.data_config, algorithm, warnings);
  if (algorithm !== undefined && isDict(algorithm.n2v_config))
    migrateN2VManipulate(algorithm.n2v_config, warnings);
  if (isDict(value.training_config)) migrateTraining(value.training_config, warnings);
  if (typeof value.version === 'string' && value.version !== '0.3.0') {
    warnings.push(`version: "${value.version}" read as "0.3.0"`);
    value.version = '0.3.0';
  }
  return { value, warnings };
}
