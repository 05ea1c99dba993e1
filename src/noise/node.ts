/** Noise model files in Node: CAREamics' `.npz`, read and written (atomically). */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/node/index.js';
import { NoiseModelError } from './errors.js';
import type { NoiseModel } from './model.js';
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
