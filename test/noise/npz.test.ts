/** CAREamics' noise model `.npz`: written by numpy and read by us, written by us and read by numpy; bad files. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy.js';
import {
  createNoiseModel,
  decodeNoiseModelNpz,
  encodeNoiseModelNpz,
  type GaussianMixtureNoiseModel,
  isNoiseModelError,
} from '../../src/noise/index.js';
import { loadNoiseModelFromConfig } from '../../src/noise/node.js';
import { HAS_NUMPY, PYTHON } from './helpers.js';

if (!HAS_NUMPY) console.warn('numpy .npz interoperability skipped: /usr/bin/python3 cannot import numpy');

const dir = mkdtempSync(join(tmpdir(), 'careamics-npz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = createNoiseModel({
  model_type: 'GaussianMixtureNoiseModel',
  n_gaussian: 2,
  n_coeff: 3,
  weight: [
    [0.1, -0.2, 0.3],
    [1.5, 2.5, -3.5],
    [5.25, 8.125, 0],
    [4, 7.5, 1e-3],
    [0.5, 1, 2],
    [-1, 0, 1],
  ],
  min_signal: 12.5,
  max_signal: 40000,
  min_sigma: 125,
}) as GaussianMixtureNoiseModel;

function errorOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (isNoiseModelError(err)) return err;
    throw err;
  }
  throw new Error('expected a NoiseModelError');
}

const scalar = (v: number) => encodeNpy({ data: Float64Array.of(v), shape: [] });

describe.skipIf(!HAS_NUMPY)('numpy interoperability', () => {
  it('numpy reads what we write, with the keys CAREamics saves and loads', () => {
    const path = join(dir, 'ours.npz');
    writeFileSync(path, encodeNoiseModelNpz(model));
    const script = `
import sys, json, numpy as np
p = np.load(sys.argv[1])
print(json.dumps({k: p[k].tolist() for k in p.files} | {'shape': list(p['trained_weight'].shape)}))`;
    const read = JSON.parse(execFileSync(PYTHON, ['-c', script, path], { encoding: 'utf8' }));
    expect(read).toEqual({
      trained_weight: model.weight,
      min_signal: 12.5,
      max_signal: 40000,
      min_sigma: 125,
      shape: [6, 3],
    });
  });

  it('we read what np.savez writes (trained_weight float32, or weight, scalars of any float type)', () => {
    const script = `
import sys, numpy as np
w = np.arange(18, dtype=np.float32).reshape(6, 3) / 8
np.savez(sys.argv[1] + '/a.npz', trained_weight=w, min_signal=np.array(3.0, dtype=np.float32), max_signal=np.float64(900), min_sigma=np.array(50.0))
np.savez_compressed(sys.argv[1] + '/b.npz', weight=w.astype(np.float64), min_signal=0.0, max_signal=1.0, min_sigma=125.0)`;
    execFileSync(PYTHON, ['-c', script, dir]);
    const a = decodeNoiseModelNpz(
      new Uint8Array(readFileSync(join(dir, 'a.npz'))),
      'a.npz',
    ) as GaussianMixtureNoiseModel;
    expect(a).toMatchObject({
      n_gaussian: 2,
      n_coeff: 3,
      min_signal: 3,
      max_signal: 900,
      min_sigma: 50,
      tol: 1e-10,
    });
    expect(a.weight[5]).toEqual([15 / 8, 16 / 8, 17 / 8]);
    const b = decodeNoiseModelNpz(
      new Uint8Array(readFileSync(join(dir, 'b.npz'))),
      'b.npz',
    ) as GaussianMixtureNoiseModel;
    expect(b.weight).toEqual(a.weight);
  });
});

describe('.npz round trip and bad files', () => {
  it('round-trips exactly (float64), writing tol only when it is not CAREamics’ 1e-10', () => {
    expect(decodeNoiseModelNpz(encodeNoiseModelNpz(model))).toEqual(model);
    const withTol = { ...model, tol: 1e-6 };
    expect(decodeNoiseModelNpz(encodeNoiseModelNpz(withTol))).toEqual(withTol);
    const gaussian = createNoiseModel({ model_type: 'GaussianNoiseModel', sigma: 7.25 });
    expect(decodeNoiseModelNpz(encodeNoiseModelNpz(gaussian))).toEqual(gaussian);
  });

  it('names every missing field', () => {
    const bytes = zipSync({ 'min_signal.npy': scalar(0) });
    const err = errorOf(() => decodeNoiseModelNpz(bytes, 'nm.npz'));
    expect(err._tag).toBe('MissingField');
    expect(err.message).toMatch(/^nm\.npz: missing trained_weight \(or weight\), max_signal, min_sigma;/);
  });

  it('names a weight of the wrong shape', () => {
    const weight = encodeNpy({ data: new Float64Array(8), shape: [4, 2] });
    const bytes = zipSync({
      'trained_weight.npy': weight,
      'min_signal.npy': scalar(0),
      'max_signal.npy': scalar(1),
      'min_sigma.npy': scalar(1),
    });
    const err = errorOf(() => decodeNoiseModelNpz(bytes, 'nm.npz'));
    expect(err._tag).toBe('BadField');
    expect(err.message).toContain('trained_weight must be a [3·n_gaussian, n_coeff] array');
    expect(err.message).toContain('got shape [4, 2]');
  });

  it('names invalid values through the configuration rules', () => {
    const bytes = zipSync({
      'trained_weight.npy': encodeNpy({ data: new Float64Array(6), shape: [3, 2] }),
      'min_signal.npy': scalar(10),
      'max_signal.npy': scalar(5),
      'min_sigma.npy': scalar(1),
    });
    expect(errorOf(() => decodeNoiseModelNpz(bytes, 'nm.npz')).message).toBe(
      'nm.npz: max_signal: must be greater than min_signal (10), got 5',
    );
  });

  it('refuses a file that is not a zip', () => {
    const err = errorOf(() => decodeNoiseModelNpz(new TextEncoder().encode('hello'), 'nm.npz'));
    expect(err._tag).toBe('BadFile');
  });
});

describe('a configuration with a path', () => {
  it('loads the .npz it points to; refuses a weight given beside it, and a missing file', async () => {
    const path = join(dir, 'config.npz');
    writeFileSync(path, encodeNoiseModelNpz(model));
    const config = { model_type: 'GaussianMixtureNoiseModel' as const, path };
    expect(await loadNoiseModelFromConfig(config)).toEqual(model);
    expect(() => createNoiseModel(config)).toThrow(
      /weight is null; read path .*config\.npz with loadNoiseModelFromConfig/,
    );
    const both = { ...config, weight: model.weight, n_gaussian: 2, n_coeff: 3 };
    await expect(loadNoiseModelFromConfig(both)).rejects.toThrow(
      'config.npz: give either path or weight, not both',
    );
    await expect(loadNoiseModelFromConfig({ ...config, path: join(dir, 'none.npz') })).rejects.toThrow(
      /none\.npz: no such file/,
    );
  });
});
