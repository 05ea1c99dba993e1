import { CareamicsError } from '../errors.js';

/** Why a metric cannot compare two images; callers branch on the tag, users read the message. */
export type MetricsErrorTag = 'EmptyImage' | 'SizeMismatch' | 'ImageTooSmall';

/** Images a metric cannot compare, naming the metric (`ssim`, `psnr`, …) and the problem. */
export class MetricsError<Tag extends MetricsErrorTag = MetricsErrorTag> extends CareamicsError<Tag> {
  readonly metric: string;
  readonly problem: string;

  constructor(tag: Tag, metric: string, problem: string, options?: { cause?: unknown }) {
    super(tag, `${metric}: ${problem}`, options);
    this.metric = metric;
    this.problem = problem;
  }
}

/** True when `err` is a `MetricsError`, optionally one of the given tags. */
export function isMetricsError<T extends MetricsErrorTag>(
  err: unknown,
  ...tags: T[]
): err is MetricsError<T> {
  if (!(err instanceof MetricsError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}
