import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type BmzErrorTag, exportToBmz, importBmz, isBmzError } from '../../src/bmz/index.js';
import type { Model } from '../../src/engine/index.js';
import { isCareamicsError } from '../../src/errors.js';
import { exportOptions, exportTiny, tinyModel } from './fixtures.js';

/** Resolves to the BmzError `promise` rejects with, checking its tag and file. */
async function bmzFailure(promise: Promise<unknown>, tag: BmzErrorTag, file?: string) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBmzError(err, tag), `expected BmzError ${tag}, got ${String(err)}`).toBe(true);
  expect(isCareamicsError(err, tag)).toBe(true);
  if (file !== undefined) {
    expect((err as { file?: string }).file).toBe(file);
    expect((err as Error).message).toContain(file);
  }
  return err as Error;
}

describe('importBmz refuses broken packages with a BmzError naming the file', () => {
  let model: Model;
  let files: Record<string, Uint8Array>;
  beforeAll(async () => {
    model = await tinyModel();
    files = unzipSync(await exportTiny(model));
  });
  afterAll(() => model.dispose());

  const repack = (changes: Record<string, Uint8Array | undefined>) => {
    const next: Record<string, Uint8Array> = {};
    for (const [name, bytes] of Object.entries({ ...files, ...changes })) if (bytes) next[name] = bytes;
    return zipSync(next);
  };
  const withRdf = (edit: (rdf: Record<string, unknown>) => void) => {
    const rdf = parse(strFromU8(files['rdf.yaml']));
    edit(rdf);
    return repack({ 'rdf.yaml': strToU8(stringify(rdf)) });
  };
  const flipByte = (bytes: Uint8Array) => {
    const copy = bytes.slice();
    copy[Math.floor(copy.length / 2)] ^= 1;
    return copy;
  };

  for (const name of ['weights.onnx', 'inputs.npy', 'outputs.npy', 'careamics.yaml']) {
    it(`a changed byte in ${name}: HashMismatch`, async () => {
      await bmzFailure(importBmz(repack({ [name]: flipByte(files[name]) })), 'HashMismatch', name);
    });
  }

  it('a missing rdf.yaml: MissingFile', async () => {
    await bmzFailure(importBmz(repack({ 'rdf.yaml': undefined })), 'MissingFile', 'rdf.yaml');
  });

  it('a missing weights file: MissingFile', async () => {
    await bmzFailure(importBmz(repack({ 'weights.onnx': undefined })), 'MissingFile', 'weights.onnx');
  });

  it('no ONNX weights in the description: NoOnnxWeights listing the formats there are', async () => {
    const zip = withRdf((rdf) => {
      rdf.weights = { pytorch_state_dict: { source: 'https://example.com/weights.pth' } };
    });
    const err = await bmzFailure(importBmz(zip), 'NoOnnxWeights', 'rdf.yaml');
    expect(err.message).toContain('pytorch_state_dict');
  });

  it('malformed YAML: BadYaml', async () => {
    await bmzFailure(
      importBmz(repack({ 'rdf.yaml': strToU8('inputs: [\n  - {id: x') })),
      'BadYaml',
      'rdf.yaml',
    );
  });

  it('a 0.4 description: InvalidRdf', async () => {
    await bmzFailure(
      importBmz(
        withRdf((rdf) => {
          rdf.format_version = '0.4.10';
        }),
      ),
      'InvalidRdf',
      'rdf.yaml',
    );
  });

  it('an unsupported processing step: UnsupportedProcessing naming the step', async () => {
    const zip = withRdf((rdf) => {
      const input = (rdf.inputs as Record<string, unknown>[])[0];
      input.preprocessing = [{ id: 'scale_range', kwargs: { axes: ['y', 'x'], max_percentile: 99.8 } }];
    });
    const err = await bmzFailure(importBmz(zip), 'UnsupportedProcessing', 'rdf.yaml');
    expect(err.message).toContain('inputs[0].preprocessing[0] (scale_range)');
  });

  it('bytes that are not a zip: NotAZip naming the source', async () => {
    await bmzFailure(importBmz(strToU8('not a zip at all'), 'model.zip'), 'NotAZip', 'model.zip');
  });

  it('a truncated zip: NotAZip, one line saying so', async () => {
    const whole = repack({});
    for (const length of [whole.length - 10, Math.floor(whole.length / 2), 40]) {
      const err = await bmzFailure(importBmz(whole.subarray(0, length), 'model.zip'), 'NotAZip', 'model.zip');
      expect(err.message).toMatch(/^model\.zip: a truncated or damaged zip archive \([^\n]*\)$/);
    }
  });

  for (const entry of [
    '../evil.txt',
    'docs/../../evil.txt',
    '/etc/evil.txt',
    'C:\\evil.txt',
    '..\\evil.txt',
  ]) {
    it(`an entry escaping the package's folder (${entry}): UnsafeEntry naming it`, async () => {
      const err = await bmzFailure(
        importBmz(repack({ [entry]: strToU8('x') }), 'model.zip'),
        'UnsafeEntry',
        'model.zip',
      );
      expect(err.message).toBe(`model.zip: the entry "${entry}" points outside the package; refusing it`);
    });
  }
});

describe('exportToBmz refuses inputs that would make an invalid package', () => {
  let model: Model;
  beforeAll(async () => {
    model = await tinyModel();
  });
  afterAll(() => model.dispose());

  it('a name with characters bioimage.io does not allow', async () => {
    await bmzFailure(exportToBmz(exportOptions(model, { name: 'N2V: tiny/test' })), 'InvalidInput');
  });

  it('a test image whose size is not a multiple of 2**depth or is under the minimum', async () => {
    const data = new Float32Array(62 * 62);
    await bmzFailure(
      exportToBmz(exportOptions(model, { inputArray: { data, shape: [62, 62], axes: 'YX' } })),
      'InvalidInput',
    );
    const small = new Float32Array(32 * 32);
    const err = await bmzFailure(
      exportToBmz(exportOptions(model, { inputArray: { data: small, shape: [32, 32], axes: 'YX' } })),
      'InvalidInput',
    );
    expect(err.message).toContain('at least 56');
  });

  it('an architecture that differs from the configuration', async () => {
    const architecture = { ...model.architecture, depth: 3 };
    const err = await bmzFailure(exportToBmz(exportOptions(model, { architecture })), 'InvalidInput');
    expect(err.message).toContain('architecture.depth is 3 but the configuration says 2');
  });

  it('statistics for the wrong number of channels, or a zero std', async () => {
    await bmzFailure(
      exportToBmz(exportOptions(model, { normalization: { means: [1, 2], stds: [1, 2] } })),
      'InvalidInput',
    );
    await bmzFailure(
      exportToBmz(exportOptions(model, { normalization: { means: [1], stds: [0] } })),
      'InvalidInput',
    );
  });
});
