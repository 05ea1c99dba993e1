/**
 * The noise a pn2v configuration names, ready for the engine: a GaussianNoiseModel's sigma (Gaussian prior), or a
 * Gaussian mixture's log-likelihood graph (samples prior), its weights read from the `.npz` at `path` when the
 * configuration does not hold them.
 */
import type { Configuration, NoiseModelConfig, PN2VAlgorithm } from '../config/index.js';
import type { Pn2vNoise } from '../models/index.js';
import {
  createNoiseModel,
  decodeNoiseModelNpz,
  type NoiseModel,
  noiseModelLogLikelihood,
} from '../noise/index.js';
import { CAREamistError } from './tiled.js';

export type ReadFile = (path: string) => Promise<Uint8Array>;

export interface ResolvedNoise {
  noise: Pn2vNoise;
  /** The configuration's noise model with its weights written in, so that checkpoints need no other file. */
  config: NoiseModelConfig;
}

export async function resolvePn2vNoise(alg: PN2VAlgorithm, readFile?: ReadFile): Promise<ResolvedNoise> {
  const configured = alg.noise_model;
  if (!configured) throw new CAREamistError('algorithm_config.noise_model: pn2v needs a noise model');
  if (configured.model_type === 'GaussianNoiseModel')
    return { noise: { prior: 'gaussian', sigma: configured.sigma }, config: configured };
  let model: NoiseModel;
  if (configured.path === null) {
    model = createNoiseModel(configured);
  } else {
    const path = configured.path;
    if (configured.weight !== null)
      throw new CAREamistError(
        `algorithm_config.noise_model: give either path or weight, not both (${path} holds the weight)`,
      );
    if (!readFile)
      throw new CAREamistError(
        `algorithm_config.noise_model.path: cannot read "${path}" here; give the noise model's weight in the configuration`,
      );
    model = decodeNoiseModelNpz(await readFile(path), path);
    if (model.model_type === 'GaussianNoiseModel')
      throw new CAREamistError(
        `algorithm_config.noise_model.path: ${path} holds a GaussianNoiseModel; configure {model_type: GaussianNoiseModel, sigma: ${model.sigma}} (a Gaussian prior)`,
      );
  }
  const mixture = model;
  // The weights go into the configuration and the path out: the file holds the weight, so not both.
  return {
    noise: { prior: 'samples', logLikelihood: (y, s) => noiseModelLogLikelihood(y, s, mixture) },
    config: { ...model, path: null } as NoiseModelConfig,
  };
}

/** The configuration with a pn2v noise model's resolved form written in (unchanged for other algorithms). */
export function withNoiseModel(config: Configuration, noiseModel: NoiseModelConfig): Configuration {
  const a = config.algorithm_config;
  if (a.algorithm !== 'pn2v') return config;
  return { ...config, algorithm_config: { ...a, noise_model: noiseModel } };
}
