/**
 * The training patch samplers by `data_config.patching.name`, each with its validation split: the patches withheld
 * from training when no validation images are given.
 */
import type { PatchingConfig } from '../config/data.js';
import { type ImageInfo, type Patching, type PatchSpec, RandomPatching } from './patching.js';
import type { Rng } from './random.js';
import { StratifiedPatching } from './stratifiedPatching.js';
import { createValSplit } from './valSplit.js';

export type TrainingPatchingName = Extract<PatchingConfig['name'], 'stratified' | 'random'>;

/** A training sampler and the `nValPatches` validation patches it never overlaps. */
export interface TrainingPatching {
  training: Patching;
  validation: PatchSpec[];
}

export type TrainingPatchingStrategy = (
  images: readonly ImageInfo[],
  patchSize: readonly number[],
  rng: Rng,
  nValPatches: number,
) => TrainingPatching;

export const TRAINING_PATCHING: Record<TrainingPatchingName, TrainingPatchingStrategy> = {
  /** One patch per grid cell per epoch at a random offset; validation cells are removed from the grid. */
  stratified(images, patchSize, rng, nValPatches) {
    const training = new StratifiedPatching(images, patchSize, rng);
    return { training, validation: createValSplit(training, rng, nValPatches) };
  },
  /** Uniformly random positions every epoch, redrawn where they would overlap a validation patch. */
  random(images, patchSize, rng, nValPatches) {
    const validation = createValSplit(new StratifiedPatching(images, patchSize, rng), rng, nValPatches);
    return { training: new RandomPatching(images, patchSize, rng, validation), validation };
  },
};

/** True when `name` is a patching strategy training can use. */
export function isTrainingPatching(name: string): name is TrainingPatchingName {
  return Object.hasOwn(TRAINING_PATCHING, name);
}
