import { CareamicsError } from '../errors.js';

/** What went wrong with a BioImage Model Zoo package; callers branch on `reason`, users read the message. */
export type BmzProblem =
  | 'NotAZip'
  | 'MissingFile'
  | 'HashMismatch'
  | 'BadYaml'
  | 'InvalidRdf'
  | 'NoOnnxWeights'
  | 'UnsupportedProcessing'
  | 'UnsupportedAxes'
  | 'InvalidInput';

/** A BMZ export or import failure, naming the file inside the package when there is one. */
export class BmzError extends CareamicsError<'BmzError'> {
  readonly reason: BmzProblem;
  readonly file?: string;

  constructor(reason: BmzProblem, message: string, options?: { file?: string; cause?: unknown }) {
    super('BmzError', options?.file ? `${options.file}: ${message}` : message, options);
    this.reason = reason;
    this.file = options?.file;
  }
}

/** True when `err` is a `BmzError`, optionally with one of the given reasons. */
export function isBmzError(err: unknown, ...reasons: BmzProblem[]): err is BmzError {
  return err instanceof BmzError && (reasons.length === 0 || reasons.includes(err.reason));
}
