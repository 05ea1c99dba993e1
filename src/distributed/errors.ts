import { CareamicsError } from '../errors.js';

export type DistributedErrorTag =
  /** Redis cannot be reached, or refuses the connection. */
  | 'QueueUnreachable'
  /** An option that does not fit the image (a chunk size per tiled axis, …). */
  | 'InvalidOption'
  /** The queue URL is not `redis://HOST:PORT/DB`. */
  | 'InvalidQueueUrl'
  /** Another run writes (or wrote) the same output. */
  | 'OutputTaken'
  /** A worker process or a job failed. */
  | 'WorkerFailed'
  /** A run failed or was not found. */
  | 'RunFailed';

/** A failure of prediction across processes or machines, with a one-line message. */
export class DistributedError extends CareamicsError<DistributedErrorTag> {}

export function isDistributedError<T extends DistributedErrorTag>(
  err: unknown,
  ...tags: T[]
): err is DistributedError {
  return err instanceof DistributedError && (tags.length === 0 || (tags as string[]).includes(err._tag));
}
