import { parse, type ScalarTag, stringify } from 'yaml';
import { type Configuration, parseConfiguration } from './configuration.js';
import { ConfigError } from './errors.js';

/**
 * Reads a configuration from YAML text: a careamics-js `config.yaml` or a CAREamics `careamics.yaml`
 * (current or legacy shape); `recognised` names the CAREamics releases whose shape it has. Throws `ConfigError` for malformed YAML or an invalid configuration.
 */
export function loadConfigYaml(text: string): ReturnType<typeof parseConfiguration> {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw new ConfigError([{ path: '', message: `malformed YAML: ${(err as Error).message}` }], {
      cause: err,
    });
  }
  return parseConfiguration(data);
}

// PyYAML (YAML 1.1) reads `1e-8` as a string; it needs a dot in the mantissa: `1.0e-8`.
const pythonReadableExponent: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  identify: (v) => typeof v === 'number' && String(v).includes('e'),
  // yaml prefers, among the tags that identify a value, those with a `test`.
  test: /^[-+]?\d+\.\d*e[-+]\d+$/i,
  resolve: (s) => Number(s),
  stringify: ({ value }) => String(value).replace(/^(-?\d+)e/, '$1.0e'),
};

/**
 * Writes a configuration as YAML in CAREamics' shape (block style, field order as CAREamics dumps it), readable by
 * CAREamics' `load_configuration`.
 */
export function saveConfigYaml(config: Configuration): string {
  return stringify(config, {
    aliasDuplicateObjects: false,
    customTags: (tags) => [pythonReadableExponent, ...tags],
  });
}
