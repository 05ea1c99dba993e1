/**
 * Which CAREamics release wrote a configuration, told from the fields that release's `save_configuration` dumps
 * (read from each tag's `src/careamics/config/` pydantic models; v0.0.2 is the first tag). Only fields present
 * count: a hand-written file may leave any default out, so a missing field narrows nothing.
 */

/** CAREamics tags, oldest first, then the unreleased main branch. */
export const CAREAMICS_RELEASES = [
  '0.0.2',
  '0.0.3',
  '0.0.4',
  '0.0.4.1',
  '0.0.4.2',
  '0.0.5',
  '0.0.6',
  '0.0.7',
  '0.0.8',
  '0.0.9',
  '0.0.10',
  '0.0.11',
  '0.0.12',
  '0.0.13',
  '0.0.14',
  '0.0.15',
  '0.0.16',
  '0.0.17',
  '0.0.18',
  '0.0.19',
  '0.0.20',
  '0.0.21',
  '0.0.22',
  '0.1.0',
  '0.2.0',
  '0.3.0',
  '0.3.1',
  '0.3.2',
  'HEAD',
] as const;
export type CareamicsRelease = (typeof CAREAMICS_RELEASES)[number];

/** A field (dotted path) whose presence, or value when `test` is given, only the releases `from`..`to` write. */
interface Marker {
  readonly field: string;
  readonly test?: (value: unknown) => boolean;
  readonly from: CareamicsRelease;
  readonly to: CareamicsRelease;
}

const hasN2VManipulate = (v: unknown) =>
  Array.isArray(v) && v.some((t) => typeof t === 'object' && t !== null && t.name === 'N2VManipulate');

const MARKERS: readonly Marker[] = [
  { field: 'version', test: (v) => v === '0.1.0', from: '0.0.2', to: '0.1.0' },
  { field: 'version', test: (v) => v === '0.2.0', from: '0.2.0', to: '0.2.0' },
  { field: 'version', test: (v) => v === '0.3.0', from: '0.3.0', to: 'HEAD' },
  { field: 'algorithm_config.algorithm_type', from: '0.0.3', to: '0.0.3' },
  { field: 'algorithm_config.monitor_metric', from: '0.1.0', to: 'HEAD' },
  { field: 'algorithm_config.model.use_batch_norm', from: '0.0.13', to: 'HEAD' },
  { field: 'algorithm_config.model.residual', from: '0.1.0', to: 'HEAD' },
  { field: 'algorithm_config.n2v_config', from: '0.0.10', to: 'HEAD' },
  { field: 'algorithm_config.n2v_config.remove_center', from: '0.0.10', to: '0.0.22' },
  { field: 'algorithm_config.n2v_config.seed', from: '0.1.0', to: 'HEAD' },
  { field: 'algorithm_config.n2v_config.struct_mask_axis', from: '0.0.10', to: '0.2.0' },
  { field: 'algorithm_config.n2v_config.struct_mask', from: '0.3.0', to: 'HEAD' },
  { field: 'data_config.patch_size', from: '0.0.2', to: '0.1.0' },
  { field: 'data_config.image_means', from: '0.0.2', to: '0.1.0' },
  { field: 'data_config.transforms', from: '0.0.2', to: '0.1.0' },
  { field: 'data_config.transforms', test: hasN2VManipulate, from: '0.0.2', to: '0.0.9' },
  { field: 'data_config.dataloader_params', from: '0.0.2', to: '0.0.6' },
  { field: 'data_config.train_dataloader_params', from: '0.0.7', to: 'HEAD' },
  { field: 'data_config.patching', from: '0.2.0', to: 'HEAD' },
  { field: 'data_config.normalization', from: '0.2.0', to: 'HEAD' },
  { field: 'data_config.target_axes', from: 'HEAD', to: 'HEAD' },
  { field: 'data_config.normalization.skip_target', from: 'HEAD', to: 'HEAD' },
  { field: 'training_config.num_epochs', from: '0.0.2', to: '0.0.15' },
  { field: 'training_config.precision', from: '0.0.4', to: '0.0.15' },
  { field: 'training_config.enable_progress_bar', from: '0.0.4', to: '0.0.11' },
  { field: 'training_config.lightning_trainer_config', from: '0.0.16', to: '0.1.0' },
  { field: 'training_config.checkpoint_callback', from: '0.0.2', to: '0.1.0' },
  { field: 'training_config.trainer_params', from: '0.2.0', to: 'HEAD' },
  { field: 'training_config.checkpoint_params', from: '0.2.0', to: 'HEAD' },
];

function valueAt(input: unknown, field: string): { found: boolean; value?: unknown } {
  let v = input;
  for (const key of field.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !(key in v)) return { found: false };
    v = (v as Record<string, unknown>)[key];
  }
  return { found: true, value: v };
}

/** The releases that write such a configuration, as `{ from, to }`; null when no single release writes all its fields. */
function recogniseRelease(input: unknown): { from: CareamicsRelease; to: CareamicsRelease } | null {
  let lo = 0;
  let hi = CAREAMICS_RELEASES.length - 1;
  for (const m of MARKERS) {
    const { found, value } = valueAt(input, m.field);
    if (!found || (m.test !== undefined && !m.test(value))) continue;
    lo = Math.max(lo, CAREAMICS_RELEASES.indexOf(m.from));
    hi = Math.min(hi, CAREAMICS_RELEASES.indexOf(m.to));
  }
  if (lo > hi) return null;
  return { from: CAREAMICS_RELEASES[lo]!, to: CAREAMICS_RELEASES[hi]! };
}

/** What a configuration says of its origin: the CAREamics releases whose shape it has, and its `version` field. */
export interface RecognisedShape {
  /** `0.1.0`, `0.0.10 to 0.0.15`, ..., or null for a mix of fields that no single release writes. */
  readonly releases: string | null;
  /** The `version` field as written (CAREamics' config version, not its release), or null without one. */
  readonly configVersion: string | null;
}

export function recognisedShape(input: unknown): RecognisedShape {
  const r = recogniseRelease(input);
  const { found, value } = valueAt(input, 'version');
  return {
    releases: r === null ? null : r.from === r.to ? r.from : `${r.from} to ${r.to}`,
    configVersion: found && value !== null && value !== undefined ? String(value) : null,
  };
}
