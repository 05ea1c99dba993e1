/** Noise model files in Node: CAREamics' `.npz`, read and written (atomically). */
import { readFile } from 'node:fs/promises';
import { type NoiseModelConfigInput, parseNoiseModelConfig } from '../config/index.js';
import { writeFileAtomic } from '../io/node/index.js';
import { NoiseModelError } from './errors.js';
import { createNoiseModel, type NoiseModel } from './model.js';
import { decodeNoiseModelNpz, encodeNoiseModelNpz } from './npz.js';

/** Reads a noise model `.npz` (CAREamics' `GaussianMixtureNoiseModel.save`, or ours). */
export async function loadNoiseModel(path: string): Promise<NoiseModel> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (cause) {
    const problem = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(cause);
    throw new NoiseModelError('BadFile', path, problem, { cause });
  }
  return decodeNoiseModelNpz(bytes, path);
}

/** Writes a noise model as `.npz`, as CAREamics' `save` does; the file appears whole or not at all. */
export async function saveNoiseModel(path: string, model: NoiseModel): Promise<void> {
  await writeFileAtomic(path, [encodeNoiseModelNpz(model)]);
}

/**
 * The noise model a configuration describes: with a `path`, the `.npz` there (whose weight, signal range and
 * `min_sigma` are the model, as in CAREamics); otherwise the configuration itself, which then needs its `weight`.
 */
export async function loadNoiseModelFromConfig(config: NoiseModelConfigInput): Promise<NoiseModel> {
  const parsed = parseNoiseModelConfig(config);
  if (parsed.model_type !== 'GaussianMixtureNoiseModel' || parsed.path === null)
    return createNoiseModel(parsed);
  if (parsed.weight !== null) {
    throw new NoiseModelError(
      'BadField',
      parsed.path,
      'give either path or weight, not both: the file holds the weight',
    );
  }
  return loadNoiseModel(parsed.path);
}
