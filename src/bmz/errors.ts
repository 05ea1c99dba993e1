import { CareamicsError } from '../errors.js';

/** What went wrong with a BioImage Model Zoo package; callers branch on the tag, users read the message. */
export type BmzErrorTag =
  | 'NotAZip'
  | 'UnsafeEntry'
  | 'MissingFile'
  | 'HashMismatch'
  | 'BadYaml'
  | 'InvalidRdf'
  | 'NoOnnxWeights'
  | 'UnsupportedProcessing'
  | 'UnsupportedAxes'
  | 'InvalidInput'
  | 'TestFailed';

/** A BMZ export or import failure, naming the file inside the package when there is one. */
export class BmzError<Tag extends BmzErrorTag = BmzErrorTag> extends CareamicsError<Tag> {
  readonly file?: string;

  constructor(tag: Tag, message: string, options?: { file?: string; cause?: unknown }) {
    super(tag, options?.file ? `${options.file}: ${message}` : message, options);
    this.file = options?.file;
  }
}

/** True when `err` is a `BmzError`, optionally one of the given tags. */
export function isBmzError<T extends BmzErrorTag>(err: unknown, ...tags: T[]): err is BmzError<T> {
  if (!(err instanceof BmzError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}
