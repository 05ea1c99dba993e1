/**
 * A bioimage.io 0.5 package made by someone else: the spec repository's `unet2d_nuclei_broad` description (fixtures/,
 * MIT) with a stand-in ONNX graph of the same tensor names and layout (its real weights are not in git). Its fixed
 * 512×512 input is refused in one line naming it; with that one field made `{min: 16, step: 16}`, the rest of the
 * description (zero_mean_unit_variance over x and y, sigmoid, halo 32, an output sized by the input) predicts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { encodeNpy, FrozenModel, loadModel, writeImage } from '../../src/node.js';
import { cli } from '../cli/helpers.js';
import { EXAMPLE } from './schema.js';

const { onnx } = onnxProto;

/** `probability = −raw` on [batch, 1, y, x]: the real UNet's names and layout, one node. */
function standInOnnx(): Uint8Array {
  const { FLOAT } = onnx.TensorProto.DataType;
  const info = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: [{ dimParam: 'batch' }, { dimValue: 1 }, { dimParam: 'y' }, { dimParam: 'x' }] },
      },
    },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'stand-in',
      node: [{ opType: 'Neg', input: ['raw'], output: ['probability'] }],
      input: [info('raw')],
      output: [info('probability')],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The description with only its ONNX weights, our stand-in files, and no hashes (they name the real files). */
type Editable = { inputs: { axes: { size: unknown }[] }[] };
function foreignPackage(edit: (rdf: Editable) => void = () => {}): Uint8Array {
  const rdf = parse(readFileSync(EXAMPLE, 'utf8'));
  delete rdf.weights.pytorch_state_dict;
  delete rdf.weights.torchscript;
  delete rdf.weights.onnx.parent;
  const dropHashes = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(dropHashes);
    else if (typeof v === 'object' && v !== null) {
      delete (v as { sha256?: string }).sha256;
      Object.values(v).forEach(dropHashes);
    }
  };
  dropHashes(rdf);
  edit(rdf);
  const side = rdf.inputs[0].axes[2].size === 512 ? 512 : 64;
  const input = Float32Array.from({ length: side * side }, (_, i) => (i % 97) + 3 * Math.floor(i / side));
  const output = expected(input);
  const npy = (data: Float32Array) => encodeNpy({ data, shape: [1, 1, side, side] });
  return zipSync({
    'rdf.yaml': strToU8(stringify(rdf)),
    'weights.onnx': standInOnnx(),
    'README.md': strToU8('# UNet 2D Nuclei Broad (stand-in weights)\n'),
    'cover0.png': strToU8('stand-in cover'),
    'test_input.npy': npy(input),
    'test_output.npy': npy(output),
    'test_input.png': strToU8('stand-in sample'),
    'test_output.png': strToU8('stand-in sample'),
  });
}

/** What the package computes: sigmoid(−(x − mean)/(std + 1e-6)), statistics of the whole image. */
function expected(x: Float32Array): Float32Array {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const std = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length);
  return Float32Array.from(x, (v) => 1 / (1 + Math.exp((v - mean) / (std + 1e-6))));
}

describe('a bioimage.io 0.5 package from the spec repository, with stand-in ONNX weights', () => {
  let dir: string;
  const p = (name: string) => join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'careamics-foreign-'));
    await writeFile(p('fixed.zip'), foreignPackage());
    await writeFile(
      p('steps.zip'),
      foreignPackage((rdf) => {
        rdf.inputs[0].axes[2].size = { min: 16, step: 16 };
        rdf.inputs[0].axes[3].size = { min: 16, step: 16 };
      }),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('as published (a fixed 512×512 input): refused in one line naming the fixed size', async () => {
    const err = await loadModel(p('fixed.zip')).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `${p('fixed.zip')}: inputs[0] has a fixed size [512,512]; careamics-js tiles models whose input size grows in steps (min + n·step), not fixed-size ones`,
    );
    await writeImage(p('image.tif'), { data: new Float32Array(96 * 80), shape: [96, 80] }, { axes: 'YX' });
    const result = await cli('predict', p('fixed.zip'), p('image.tif'), '-o', p('out'));
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toContain('inputs[0] has a fixed size [512,512]');
  });

  it('with sizes in steps of 16: predicts through its own processing (one tile)', async () => {
    const model = await loadModel(p('steps.zip'));
    try {
      expect(model).toBeInstanceOf(FrozenModel);
      const side = 96;
      const data = Float32Array.from({ length: side * side }, (_, i) => Math.sin(i / 7) * 50 + (i % side));
      const result = await model.predict(
        { data, shape: [side, side], axes: 'YX' },
        { tileSize: [side, side] },
      );
      expect(result.shape).toEqual([side, side]);
      const want = expected(data);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(result.data[i]! - want[i]!));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await model.dispose();
    }
  });

  it('standardizes with the whole image, not each tile: small tiles give the untiled result', async () => {
    const model = await loadModel(p('steps.zip'));
    try {
      const [h, w] = [96, 80];
      const data = Float32Array.from({ length: h * w }, (_, i) => Math.sin(i / 7) * 50 + (i % w) + i / 40);
      const image = { data, shape: [h, w], axes: 'YX' };
      const untiled = await model.predict(image, { tileSize: [h, w] });
      const tiled = await model.predict(image, { tileSize: [32, 32], tileOverlap: [16, 16] });
      // Per-tile statistics were off by 0.42 here (a ramp: each tile has its own mean).
      expect(maxAbsDiff(tiled.data, untiled.data)).toBeLessThan(1e-6);
      expect(maxAbsDiff(tiled.data, expected(data))).toBeLessThan(1e-5);
      const reference = numpyExpected([data], [h, w]);
      if (reference) expect(maxAbsDiff(tiled.data, reference)).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  });

  it('gives each sample (S) its own statistics, whatever the tiling', async () => {
    const model = await loadModel(p('steps.zip'));
    try {
      const [h, w] = [64, 48];
      const plane = (k: number) =>
        Float32Array.from({ length: h * w }, (_, i) => (k + 1) * (Math.cos(i / 5) * 20 + (i % w)) + 500 * k);
      const samples = [plane(0), plane(1)];
      const data = new Float32Array(2 * h * w);
      samples.forEach((s, k) => {
        data.set(s, k * h * w);
      });
      const image = { data, shape: [2, h, w], axes: 'SYX' };
      const tiled = await model.predict(image, { tileSize: [32, 32], tileOverlap: [16, 16], batchSize: 3 });
      const want = new Float32Array(2 * h * w);
      samples.forEach((s, k) => {
        want.set(expected(s), k * h * w);
      });
      expect(maxAbsDiff(tiled.data, want)).toBeLessThan(1e-5);
      const reference = numpyExpected(samples, [h, w]);
      if (reference) expect(maxAbsDiff(tiled.data, reference)).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  });

  it('refuses a zero_mean_unit_variance after a step that changes values, naming it', async () => {
    const zip = foreignPackage((rdf) => {
      rdf.inputs[0].axes[2].size = { min: 16, step: 16 };
      rdf.inputs[0].axes[3].size = { min: 16, step: 16 };
      const steps = (rdf as unknown as { inputs: { preprocessing: unknown[] }[] }).inputs[0].preprocessing;
      steps.unshift({ id: 'scale_linear', kwargs: { gain: 2, offset: 1 } });
    });
    await writeFile(p('late.zip'), zip);
    const err = (await loadModel(p('late.zip')).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(
      /inputs\[0\]\.preprocessing\[\d\] \(zero_mean_unit_variance\): careamics-js computes whole-sample statistics only/,
    );
    expect(err.message).not.toContain('\n');
  });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** numpy's sigmoid(−(x − x.mean()) / (x.std() + 1e-6)) per sample, or undefined without numpy. */
function numpyExpected(samples: Float32Array[], shape: number[]): Float32Array | undefined {
  const script = [
    'import sys, numpy as np',
    'x = np.frombuffer(sys.stdin.buffer.read(), dtype=np.float32).reshape(-1, *map(int, sys.argv[1:]))',
    'axes = tuple(range(1, x.ndim))',
    'z = (x - x.mean(axis=axes, keepdims=True)) / (x.std(axis=axes, keepdims=True) + 1e-6)',
    'sys.stdout.buffer.write((1 / (1 + np.exp(z))).astype(np.float32).tobytes())',
  ].join('\n');
  const input = new Float32Array(samples.reduce((n, s) => n + s.length, 0));
  samples.forEach((s, k) => {
    input.set(s, k * s.length);
  });
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', script, ...shape.map(String)], {
      input: Buffer.from(input.buffer),
    });
    return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
  } catch {
    return undefined;
  }
}
