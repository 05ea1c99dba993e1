import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** Copies of the bioimage.io spec files (MIT, see fixtures/LICENSE), so the schema tests run on a fresh clone. */
const FIXTURES = resolve(import.meta.dirname, 'fixtures');
export const SCHEMA = resolve(FIXTURES, 'bioimageio_schema.json');
export const EXAMPLE = resolve(FIXTURES, 'example_unet2d_nuclei_broad.bioimageio.yaml');

/**
 * The official JSON schema (pydantic-generated, draft 2020-12 keywords such as `prefixItems`). Its OpenAPI-style
 * `discriminator` only annotates `oneOf`s that are decided by `const`s anyway, so non-strict Ajv ignores it;
 * `path` and `file-path` are pydantic formats with no rule to check.
 */
export function schemaValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('path', true);
  ajv.addFormat('file-path', true);
  return ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
}
