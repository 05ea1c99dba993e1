import { CareamicsError } from '../errors.js';

/** What stopped a tiled prediction; callers branch on the tag, users read the message. */
export type PredictionErrorTag =
  | 'InvalidOption'
  | 'IncompatibleModel'
  | 'InvalidTiling'
  | 'InvalidNormalization'
  | 'ModelOutputShape'
  | 'SourceShape'
  | 'WriterMismatch';

/** The structured fields of a `PredictionError`, each present when it applies. */
export interface PredictionErrorDetails {
  /** The shape that does not fit: a model output, a region read from the source, the writer, the tiled image. */
  readonly shape?: readonly number[];
  /** The shape that was needed instead. */
  readonly expected?: readonly number[];
  /** Tile size and overlap, per tiled axis, of the tiling at fault. */
  readonly tileSize?: readonly number[];
  readonly overlap?: readonly number[];
}

/** A tiled prediction that cannot run or went wrong: invalid options, or a model, source or writer that misfits. */
export class PredictionError<Tag extends PredictionErrorTag = PredictionErrorTag>
  extends CareamicsError<Tag>
  implements PredictionErrorDetails
{
  readonly shape?: readonly number[];
  readonly expected?: readonly number[];
  readonly tileSize?: readonly number[];
  readonly overlap?: readonly number[];

  constructor(tag: Tag, message: string, options: PredictionErrorDetails & { cause?: unknown } = {}) {
    super(tag, message, options);
    this.shape = options.shape;
    this.expected = options.expected;
    this.tileSize = options.tileSize;
    this.overlap = options.overlap;
  }
}

/** True when `err` is a `PredictionError`, optionally one of the given tags. */
export function isPredictionError<T extends PredictionErrorTag>(
  err: unknown,
  ...tags: T[]
): err is PredictionError<T> {
  if (!(err instanceof PredictionError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}
