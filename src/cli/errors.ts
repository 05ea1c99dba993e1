/**
 * Exit codes and the one-line error report: `careamics: error: <file>: <field>: <problem>` on stderr, the stack
 * and causes only with `--verbose`.
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { CareamicsError, isCareamicsError } from '../index.js';

export const EXIT = {
  ok: 0,
  /** The command ran and failed: a missing file, an invalid configuration, a model that cannot run. */
  failure: 1,
  /** Bad or missing arguments, commander's own errors included. */
  usage: 2,
  /** Ctrl-C (128 + SIGINT), after a clean stop. */
  interrupted: 130,
} as const;

/** Arguments that cannot work together or do not fit the command (exit 2). */
export class UsageError extends CareamicsError<'UsageError'> {
  constructor(message: string) {
    super('UsageError', message);
  }
}

/** A failure the command detected itself (exit 1), e.g. an output that would overwrite an input. */
export class CliError extends CareamicsError<'CliError'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CliError', message, options);
  }
}

/** The run was stopped by Ctrl-C (exit 130); `message` says what was kept and how to continue. */
export class InterruptedError extends CareamicsError<'InterruptedError'> {
  constructor(message: string) {
    super('InterruptedError', message);
  }
}

/** A configuration error as one line: every issue `path: problem`, the first line of each, joined by `; `. */
export function configErrorLine(err: ConfigError, file?: string): string {
  const issues = err.issues.map((i) => {
    const problem = firstLine(i.message);
    return i.path === '' ? problem : `${i.path}: ${problem}`;
  });
  const text = issues.length > 0 ? issues.join('; ') : firstLine(err.message);
  return file ? `${file}: ${text}` : text;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (isCareamicsError(err, 'UsageError')) return EXIT.usage;
  if (isCareamicsError(err, 'InterruptedError')) return EXIT.interrupted;
  return EXIT.failure;
}

/** The report for `err`: one line, or with `verbose` the full message, stack and causes. */
export function formatError(err: unknown, verbose: boolean): string {
  const message =
    err instanceof ConfigError
      ? configErrorLine(err)
      : firstLine(err instanceof Error ? err.message : String(err));
  const expected = isCareamicsError(err);
  const line = `careamics: error: ${message}${expected || verbose ? '' : ' (unexpected; rerun with --verbose for details)'}`;
  if (!verbose) return `${line}\n`;
  const details: string[] = [];
  for (let e: unknown = err; e !== undefined; e = e instanceof Error ? e.cause : undefined) {
    details.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    if (!(e instanceof Error)) break;
  }
  return `${line}\n${details.join('\nCaused by: ')}\n`;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '')
      ?.replace(/:$/, '') ?? text
  );
}
