import type { z } from 'zod';
import { CareamicsError } from '../errors.js';

/** One problem found in a configuration: the dotted field path (`data_config.patching.patch_size`) and why. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** A configuration that does not validate. `message` lists every issue as `path: message`, one per line. */
export class ConfigError extends CareamicsError<'ConfigError'> {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super('ConfigError', formatIssues(issues), options);
    this.issues = issues;
  }
}

/** `a.b[0].c` from zod's path segments. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function formatIssues(issues: readonly ConfigIssue[]): string {
  if (issues.length === 0) return 'Invalid configuration';
  const lines = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
  return lines.length === 1 ? lines[0]! : `Invalid configuration:\n${lines.map((l) => `- ${l}`).join('\n')}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** Turns zod issues into `ConfigIssue`s; `input` lets an unknown discriminator name the value it got. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ConfigIssue[] {
  return issues.map((issue) => {
    const path = issue.path;
    if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator !== undefined) {
      const options = (issue as { options?: unknown[] }).options ?? [];
      const got = valueAt(input, issue.path);
      const what =
        got === undefined
          ? `missing \`${issue.discriminator}\``
          : `unknown ${issue.discriminator} ${show(got)}`;
      return {
        path: formatPath(path),
        message: `${what}; expected one of ${options.map((o) => show(o)).join(', ')}`,
      };
    }
    return { path: formatPath(path), message: issue.message };
  });
}

/** A value as messages quote it: JSON, with a space after each comma of an array (`[65, 64]`). */
export function show(v: unknown): string {
  return Array.isArray(v) ? `[${v.map(show).join(', ')}]` : JSON.stringify(v);
}
