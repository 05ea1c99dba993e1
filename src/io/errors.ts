import { CareamicsError } from '../errors.js';

/** What went wrong while reading or writing an image; callers branch on the tag, users read the message. */
export type IoErrorTag =
  | 'FileNotFound'
  | 'EmptyFile'
  | 'TruncatedFile'
  | 'BadMagic'
  | 'MalformedHeader'
  | 'CorruptData'
  | 'UnsupportedFormat'
  | 'UnsupportedCompression'
  | 'UnsupportedDtype'
  | 'AbsurdDimensions'
  | 'AxesMismatch'
  | 'RegionOutOfBounds'
  | 'ShapeMismatch'
  | 'AlreadyExists'
  | 'WriteFailed';

/** An image I/O failure naming the file (or in-memory source) and the problem. */
export class IoError<Tag extends IoErrorTag = IoErrorTag> extends CareamicsError<Tag> {
  readonly file: string;
  readonly problem: string;

  constructor(tag: Tag, file: string, problem: string, options?: { cause?: unknown }) {
    super(tag, `${file}: ${problem}`, options);
    this.file = file;
    this.problem = problem;
  }
}

/** True when `err` is an image I/O error, optionally one of the given tags. */
export function isIoError<T extends IoErrorTag>(err: unknown, ...tags: T[]): err is IoError<T> {
  if (!(err instanceof IoError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}

/**
 * Readers refuse headers whose pixel count exceeds this before allocating anything: a corrupt header must not
 * turn into a multi-gigabyte allocation or a hang. 2^34 elements is far beyond any single image we tile.
 */
export const MAX_ELEMENTS = 2 ** 34;

/** Throws `AbsurdDimensions` unless every extent is a non-negative integer and the total is plausible. */
export function assertPlausibleShape(shape: readonly number[], file: string): void {
  const bad = shape.find((n) => !Number.isSafeInteger(n) || n < 0);
  if (bad !== undefined) {
    throw new IoError('AbsurdDimensions', file, `shape [${shape.join(', ')}] has an invalid extent ${bad}`);
  }
  const total = shape.reduce((a, b) => a * b, 1);
  if (total > MAX_ELEMENTS) {
    throw new IoError(
      'AbsurdDimensions',
      file,
      `shape [${shape.join(', ')}] declares ${total} elements (limit ${MAX_ELEMENTS}); the header is probably corrupt`,
    );
  }
}

/** Deflate, the strongest codec these formats use, cannot expand data more than about 1032-fold. */
const MAX_COMPRESSION_RATIO = 1100;

/** Throws `AbsurdDimensions` when `decodedBytes` could not possibly come out of `fileBytes` of compressed data. */
export function assertDecodable(decodedBytes: number, fileBytes: number, file: string): void {
  if (decodedBytes > fileBytes * MAX_COMPRESSION_RATIO) {
    throw new IoError(
      'AbsurdDimensions',
      file,
      `the header declares ${decodedBytes} bytes of pixels, impossible to decode from a ${fileBytes}-byte file`,
    );
  }
}

/**
 * Runs `allocate` (sync or async), turning the engine's RangeError (array too large) into `AbsurdDimensions`
 * naming the file, instead of a crash deep inside a typed-array constructor.
 */
export function allocating<T>(file: string, what: string, allocate: () => T): T {
  const fail = (cause: unknown): never => {
    if (!(cause instanceof RangeError)) throw cause;
    throw new IoError('AbsurdDimensions', file, `cannot allocate ${what}; read a smaller region`, { cause });
  };
  try {
    const result = allocate();
    return (result instanceof Promise ? result.catch(fail) : result) as T;
  } catch (cause) {
    return fail(cause);
  }
}
