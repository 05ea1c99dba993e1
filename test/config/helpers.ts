import { expect } from 'vitest';
import { ConfigError } from '../../src/config/index.js';

type Dict = Record<string, unknown>;

/** A configuration as read from YAML, with its sections open for tests to edit. */
export interface RawConfig {
  experiment_name: string;
  algorithm_config: Dict;
  data_config: Dict;
  training_config?: Dict;
}

/** A minimal valid CAREamics configuration: only the fields without defaults. */
export function minimal(algorithm: 'n2v' | 'care' | 'n2n' = 'n2v'): RawConfig {
  return {
    experiment_name: 'minimal',
    algorithm_config: { algorithm },
    data_config: {
      data_type: 'array',
      axes: 'YX',
      patching: { name: 'stratified', patch_size: [64, 64] },
      batch_size: 8,
    },
  };
}

/** Runs `fn`, expects a ConfigError with an issue at `path` whose message matches `message`; returns the error. */
export function expectIssue(fn: () => unknown, path: string, message?: RegExp): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect(err._tag).toBe('ConfigError');
  const issue = err.issues.find((i) => i.path === path);
  expect(issue, `no issue at ${path}; got ${err.message}`).toBeDefined();
  expect(err.message).toContain(path);
  if (message) expect(issue!.message).toMatch(message);
  return err;
}
