/**
 * Noise models in CAREamics' `.npz` (`GaussianMixtureNoiseModel.save`: `np.savez` of `trained_weight`,
 * `min_signal`, `max_signal`, `min_sigma`), readable by `np.load` and by CAREamics' `GaussianMixtureNMConfig(path=…)`.
 * Reading also accepts `weight` for `trained_weight`, as CAREamics does.
 */
import { unzipSync, zipSync } from 'fflate';
import { ConfigError, type NoiseModelConfigInput } from '../config/index.js';
import { decodeNpy, encodeNpy } from '../io/index.js';
import { NoiseModelError } from './errors.js';
import { createNoiseModel, type NoiseModel } from './model.js';

const SCALARS = ['min_signal', 'max_signal', 'min_sigma'] as const;
/** CAREamics fixes the tolerance at 1e-10 and does not save it; we write `tol` only when it differs. */
const CAREAMICS_TOL = 1e-10;

/**
 * The `.npz` bytes of a noise model, float64 arrays as `np.savez` writes them. A `GaussianNoiseModel` (our
 * extension, which CAREamics cannot read) is a single `sigma` array.
 */
export function encodeNoiseModelNpz(model: NoiseModel): Uint8Array {
  if (model.model_type === 'GaussianNoiseModel') {
    return zipSync(
      { 'sigma.npy': encodeNpy({ data: Float64Array.of(model.sigma), shape: [] }) },
      { level: 0 },
    );
  }
  const rows = model.weight.length;
  const columns = model.weight[0]?.length ?? 0;
  const weight = Float64Array.from(model.weight.flat());
  const arrays: Record<string, Uint8Array> = {
    'trained_weight.npy': encodeNpy({ data: weight, shape: [rows, columns] }),
  };
  for (const key of SCALARS)
    arrays[`${key}.npy`] = encodeNpy({ data: Float64Array.of(model[key]), shape: [] });
  if (model.tol !== CAREAMICS_TOL)
    arrays['tol.npy'] = encodeNpy({ data: Float64Array.of(model.tol), shape: [] });
  // np.savez stores its members uncompressed; so do we.
  return zipSync(arrays, { level: 0 });
}

/** Reads a CAREamics noise model `.npz` (or our single-Gaussian one); `file` names it in errors. */
export function decodeNoiseModelNpz(bytes: Uint8Array, file = '<memory>'): NoiseModel {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (cause) {
    throw new NoiseModelError('BadFile', file, 'not an .npz file (not a zip archive)', { cause });
  }
  const array = (key: string) => {
    const member = members[`${key}.npy`];
    return member === undefined ? undefined : decodeNpy(member, `${file}:${key}`);
  };
  const scalar = (key: string) => {
    const a = array(key);
    if (a === undefined) return undefined;
    if (a.data.length !== 1) {
      throw new NoiseModelError(
        'BadField',
        file,
        `${key} must be a single number, got shape [${a.shape.join(', ')}]`,
      );
    }
    return Number(a.data[0]);
  };
  if (members['sigma.npy'] && !members['trained_weight.npy'] && !members['weight.npy']) {
    return fromConfig(file, { model_type: 'GaussianNoiseModel', sigma: scalar('sigma')! }, 'sigma');
  }
  const weightKey = members['trained_weight.npy'] ? 'trained_weight' : 'weight';
  const weight = array(weightKey);
  const missing = [
    weight ? [] : ['trained_weight (or weight)'],
    SCALARS.filter((k) => !members[`${k}.npy`]),
  ].flat();
  if (weight === undefined || missing.length > 0) {
    const found = Object.keys(members).map((m) => m.replace(/\.npy$/, ''));
    throw new NoiseModelError(
      'MissingField',
      file,
      `missing ${missing.join(', ')}; a CAREamics noise model has trained_weight, min_signal, max_signal, min_sigma (found ${found.join(', ') || 'nothing'})`,
    );
  }
  if (
    weight.shape.length !== 2 ||
    weight.shape[0]! % 3 !== 0 ||
    weight.shape[0] === 0 ||
    weight.shape[1]! < 2
  ) {
    throw new NoiseModelError(
      'BadField',
      file,
      `${weightKey} must be a [3·n_gaussian, n_coeff] array (n_coeff ≥ 2), got shape [${weight.shape.join(', ')}]`,
    );
  }
  const [rows, columns] = weight.shape as [number, number];
  const values = Array.from(weight.data, Number);
  return fromConfig(
    file,
    {
      model_type: 'GaussianMixtureNoiseModel',
      weight: Array.from({ length: rows }, (_, r) => values.slice(r * columns, (r + 1) * columns)),
      n_gaussian: rows / 3,
      n_coeff: columns,
      min_signal: scalar('min_signal'),
      max_signal: scalar('max_signal'),
      min_sigma: scalar('min_sigma'),
      tol: scalar('tol') ?? CAREAMICS_TOL,
    },
    weightKey,
  );
}

/** The model, its configuration rules' complaints naming the file and the field as the file spells it. */
function fromConfig(file: string, config: NoiseModelConfigInput, weightKey: string): NoiseModel {
  try {
    return createNoiseModel(config);
  } catch (cause) {
    if (!(cause instanceof ConfigError)) throw cause;
    const problems = cause.issues.map((i) => `${i.path === 'weight' ? weightKey : i.path}: ${i.message}`);
    throw new NoiseModelError('BadField', file, problems.join('; '), { cause });
  }
}
