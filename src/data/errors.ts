import type { z } from 'zod';
import { toConfigIssues } from '../config/errors.js';
import { CareamicsError } from '../errors.js';

/** What is wrong with the data or the arguments of a data function; callers branch on the tag. */
export type DataErrorTag =
  | 'MissingData'
  | 'NotEnoughData'
  | 'AxesMismatch'
  | 'InvalidAxes'
  | 'ShapeMismatch'
  | 'ChannelMismatch'
  | 'NonFinitePixels'
  | 'ZeroVariance'
  | 'PatchTooLarge'
  | 'PatchDimsMismatch'
  | 'PatchOutOfBounds'
  | 'NonSquarePatch'
  | 'UnsupportedPatching'
  | 'InvalidConfig';

/** A data problem in one line, naming the image (`file`) and the channel when there is one. */
export class DataError<Tag extends DataErrorTag = DataErrorTag> extends CareamicsError<Tag> {
  readonly problem: string;
  readonly file?: string;
  readonly channel?: number;

  constructor(tag: Tag, problem: string, details: { file?: string; channel?: number; cause?: unknown } = {}) {
    const { file, channel, cause } = details;
    super(tag, file === undefined ? problem : `${file}: ${problem}`, { cause });
    this.problem = problem;
    if (file !== undefined) this.file = file;
    if (channel !== undefined) this.channel = channel;
  }
}

/** True when `err` is a data error, optionally one of the given tags. */
export function isDataError<T extends DataErrorTag>(err: unknown, ...tags: T[]): err is DataError<T> {
  if (!(err instanceof DataError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}

/**
 * `value` parsed by its configuration schema, so defaults and bounds are the schema's; an invalid field is an
 * `InvalidConfig` error naming it (`n2v_config.masked_pixel_percentage: …`).
 */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = toConfigIssues(result.error.issues, value)[0];
  const field = issue.path === '' ? what : `${what}.${issue.path}`;
  throw new DataError('InvalidConfig', `${field}: ${issue.message}`, { cause: result.error });
}
