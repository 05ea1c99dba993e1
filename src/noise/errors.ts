import { CareamicsError } from '../errors.js';

/** Why a noise model cannot be read, fitted or applied; callers branch on the tag, users read the message. */
export type NoiseModelErrorTag =
  /** The data's intensities fall outside the model's [min_signal, max_signal]. */
  | 'SignalOutOfRange'
  /** Not a noise model file at all (not a zip of .npy arrays). */
  | 'BadFile'
  /** A noise model file lacks a field (`trained_weight`, `min_signal`, …). */
  | 'MissingField'
  /** A field has the wrong shape or value (`weight` not 3·n_gaussian × n_coeff, …). */
  | 'BadField'
  /** Calibration data that cannot fit a model: mismatched shapes, too few pixels, a constant signal. */
  | 'BadCalibrationData'
  /** Fitting diverged (NaN or infinite weights). */
  | 'FitDiverged';

/** A noise model failure naming where (a file, `fit`, …) and the problem. */
export class NoiseModelError<
  Tag extends NoiseModelErrorTag = NoiseModelErrorTag,
> extends CareamicsError<Tag> {
  readonly source: string;
  readonly problem: string;

  constructor(tag: Tag, source: string, problem: string, options?: { cause?: unknown }) {
    super(tag, `${source}: ${problem}`, options);
    this.source = source;
    this.problem = problem;
  }
}

/** True when `err` is a `NoiseModelError`, optionally one of the given tags. */
export function isNoiseModelError<T extends NoiseModelErrorTag>(
  err: unknown,
  ...tags: T[]
): err is NoiseModelError<T> {
  if (!(err instanceof NoiseModelError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}
