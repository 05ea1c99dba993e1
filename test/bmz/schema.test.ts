import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Model } from '../../src/engine/index.js';
import { decodeNpy } from '../../src/io/npy.js';
import { exportTiny, tinyModel } from './fixtures.js';
import { EXAMPLE, SCHEMA, schemaValidator } from './schema.js';

describe('rdf.yaml against the official bioimage.io JSON schema', () => {
  let validate: ReturnType<typeof schemaValidator>;
  let model: Model;
  let modelFormat: string;
  beforeAll(async () => {
    validate = schemaValidator();
    const schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
    modelFormat = schema.$defs.bioimageio__spec__model__v0_5__ModelDescr.properties.format_version.const;
    model = await tinyModel();
  });
  afterAll(() => model.dispose());

  it('accepts the shipped example (upgraded to the schema patch version, as bioimageio.spec does)', () => {
    const example = parse(readFileSync(EXAMPLE, 'utf8'));
    expect(example.format_version).toMatch(/^0\.5\./);
    expect(validate({ ...example, format_version: modelFormat }), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects an example with a broken field (the validator is not vacuous)', () => {
    const example = parse(readFileSync(EXAMPLE, 'utf8'));
    example.format_version = modelFormat;
    example.inputs[0].axes[2].size = { min: 0, step: 'one' };
    expect(validate(example)).toBe(false);
  });

  it('accepts the exported rdf.yaml', async () => {
    const files = unzipSync(await exportTiny(model));
    const rdf = parse(strFromU8(files['rdf.yaml']));
    expect(rdf.format_version).toBe(modelFormat);
    expect(validate(rdf), JSON.stringify(validate.errors, null, 1)).toBe(true);
  });

  it('rejects the exported rdf.yaml without weights', async () => {
    const files = unzipSync(await exportTiny(model));
    const { weights: _, ...rdf } = parse(strFromU8(files['rdf.yaml']));
    expect(validate(rdf)).toBe(false);
  });

  it('meets the bioimageio.spec checks the JSON schema cannot express', async () => {
    const files = unzipSync(await exportTiny(model));
    const rdf = parse(strFromU8(files['rdf.yaml']));
    // Name: letters, digits, `_+- ()` only.
    expect(rdf.name).toMatch(/^[A-Za-z0-9_+\- ()]{5,128}$/);
    // Output halo: at the smallest valid input at least one pixel is left after cropping.
    const sizes = rdf.inputs[0].axes
      .filter((a: { type: string }) => a.type === 'space')
      .map((a: { size: unknown }) => a.size);
    const halos = rdf.outputs[0].axes
      .filter((a: { type: string }) => a.type === 'space')
      .map((a: { halo: number }) => a.halo);
    expect(halos.map((halo: number, i: number) => sizes[i].min - 2 * halo >= 1)).toEqual([true, true]);
    // Test tensor sizes are valid input sizes: min + n·step.
    const input = decodeNpy(files['inputs.npy']);
    expect(
      input.shape.slice(2).map((s, i) => s >= sizes[i].min && (s - sizes[i].min) % sizes[i].step === 0),
    ).toEqual([true, true]);
    // Absolute tolerance at most 1% of the test output's maximum.
    const output = decodeNpy(files['outputs.npy']);
    const max = Math.max(...Array.from(output.data));
    expect(rdf.config.bioimageio.reproducibility_tolerance[0].absolute_tolerance).toBeLessThanOrEqual(
      0.01 * max,
    );
    // Documentation has a '# Validation' section.
    expect(strFromU8(files['README.md'])).toMatch(/#.*[vV]alidation/);
  });
});
