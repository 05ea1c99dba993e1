/**
 * Every error careamics-js throws on purpose is a `CareamicsError`: a tagged class with structured fields
 * and an optional `cause`, so callers can branch on `err._tag` instead of parsing messages.
 */
export class CareamicsError<Tag extends string = string> extends Error {
  readonly _tag: Tag;

  constructor(tag: Tag, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this._tag = tag;
    this.name = tag;
  }
}

/** True when `err` is a careamics-js error, optionally one of the given tags. */
export function isCareamicsError<T extends string>(err: unknown, ...tags: T[]): err is CareamicsError<T> {
  if (!(err instanceof CareamicsError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}
