/**
 * PyTorch files without Python. The fixtures come from test/torch/fixtures/make_fixtures.py, run with Debian's
 * PyTorch (`/usr/bin/python3 test/torch/fixtures/make_fixtures.py`): CAREamics' UNet (bench/torch/careamics_unet.py,
 * CAREamics' module names) saved as a Lightning checkpoint would save it, with its prediction of a small input.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLightningCheckpoint } from '../../src/careamist/lightning.js';
import { decodeNpy } from '../../src/io/npy.js';
import { CAREamist, isCareamicsError, loadModel, nodeRuntime, pathKind } from '../../src/node.js';
import {
  readTorchFile,
  TorchFileError,
  type TorchTensor,
  writeTorchStateDict,
} from '../../src/torch/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
const npy = (name: string) => decodeNpy(fixture(name), name);
const tmp = mkdtempSync(join(tmpdir(), 'careamics-torch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('readTorchFile', () => {
  it('reads strided views, float16, float64 and int64 tensors', () => {
    const t = readTorchFile(fixture('views.pt'), 'views.pt') as Record<string, TorchTensor>;
    const base = Array.from({ length: 24 }, (_, i) => i);
    expect(t.transposed!.shape).toEqual([6, 4]);
    expect(Array.from(t.transposed!.data as Float32Array)).toEqual(
      Array.from({ length: 24 }, (_, i) => base[(i % 4) * 6 + Math.floor(i / 4)]),
    );
    expect(Array.from(t.sliced!.data as Float32Array)).toEqual([8, 9, 10, 14, 15, 16]);
    expect(t.half).toMatchObject({ dtype: 'float16', shape: [4, 6] });
    expect(Array.from(t.half!.data as Float32Array)).toEqual(base);
    expect(Array.from(t.long!.data as BigInt64Array)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    expect(Array.from(t.double!.data as Float64Array)).toEqual([1, 7, 13, 19]);
  });

  it('reads what a Lightning checkpoint carries around the state dict', () => {
    const c = readTorchFile(fixture('n2v2.ckpt'), 'n2v2.ckpt');
    const at = (...keys: (string | number)[]) =>
      keys.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], c);
    expect(at('epoch')).toBe(3);
    expect(at('pytorch-lightning_version')).toBe('2.4.0');
    expect(at('hyper_parameters', 'work_dir')).toBe('/tmp/run'); // a PosixPath, as a string
    expect(at('hyper_parameters', 'algorithm_config', 'model', 'n2v2')).toBe(true); // AttributeDicts, as objects
    expect(at('datamodule_hyper_parameters', 'data_config', 'image_means')).toEqual([10.5]); // numpy float64
    expect(at('optimizer_states', 0, 'param_groups', 0, 'betas')).toEqual([0.9, 0.999]);
    expect(at('state_dict', 'model.final_conv.weight', 'shape')).toEqual([1, 8, 1, 1]);
  });

  it('refuses a global off the allowlist, by name, and runs nothing', () => {
    const marker = '/tmp/careamics-pwned';
    rmSync(marker, { force: true });
    const err = thrown(() => readTorchFile(fixture('malicious.pt'), 'malicious.pt'));
    expect(isCareamicsError(err, 'TorchFileError')).toBe(true);
    expect((err as TorchFileError).global).toBe('os.system');
    expect(err.message).toMatch(/os\.system.*not allowed/);
    expect(existsSync(marker)).toBe(false);
  });

  it('gives one line for a truncated file', () => {
    const bytes = fixture('n2v2.ckpt');
    for (const cut of [100, bytes.length / 2, bytes.length - 10]) {
      const err = thrown(() => readTorchFile(bytes.subarray(0, Math.floor(cut)), 'cut.ckpt'));
      expect(err).toBeInstanceOf(TorchFileError);
      expect(err.message).toMatch(/^cut\.ckpt: /);
      expect(err.message).not.toContain('\n');
    }
  });

  it('reads back what writeTorchStateDict writes', () => {
    const bytes = writeTorchStateDict({
      'a.weight': { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
      'a.num_batches_tracked': { shape: [], data: BigInt64Array.of(7n) },
    });
    const read = readTorchFile(bytes, 'written.pt') as Record<string, TorchTensor>;
    expect(read['a.weight']).toEqual({
      dtype: 'float32',
      shape: [2, 3],
      data: Float32Array.of(1, 2, 3, 4, 5, 6),
    });
    expect(read['a.num_batches_tracked']).toEqual({ dtype: 'int64', shape: [], data: BigInt64Array.of(7n) });
  });

  const hasTorch = (() => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasTorch)('writes a state dict that torch.load(weights_only=True) reads', () => {
    const path = join(tmp, 'written.pt');
    writeFileSync(
      path,
      writeTorchStateDict({
        w: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
        n: { shape: [], data: BigInt64Array.of(3n) },
      }),
    );
    const out = execFileSync('/usr/bin/python3', [
      '-c',
      `import torch; d = torch.load(${JSON.stringify(path)}, weights_only=True); print(d['w'].tolist(), d['n'].dtype, int(d['n']))`,
    ]).toString();
    expect(out.trim()).toBe('[[1.0, 2.0], [3.0, 4.0]] torch.int64 3');
  });
});

describe('CAREamics Lightning checkpoints', () => {
  const runtime = nodeRuntime(2);

  it('loads an N2V2 checkpoint (MaxBlurPool, legacy statistics) and predicts as PyTorch does', async () => {
    const careamist = await CAREamist.fromCheckpoint(fixture('n2v2.ckpt'), { runtime }, 'n2v2.ckpt');
    expect(careamist.config.algorithm_config.model.n2v2).toBe(true);
    expect(careamist.normalization).toMatchObject({ mean: [10.5] });
    const input = npy('n2v2_input.npy');
    const out = await careamist.engineModel!.predict(input.data as Float32Array, input.shape);
    expect(maxAbsDiff(out.data, npy('n2v2_output.npy').data as Float32Array)).toBeLessThan(1e-4);
    await careamist.dispose();
  });

  it('loads a CARE checkpoint with independent channels and target statistics', async () => {
    const careamist = await CAREamist.fromCheckpoint(
      fixture('care_channels.ckpt'),
      { runtime },
      'care_channels.ckpt',
    );
    expect(careamist.normalization).toMatchObject({ mean: [1, 2], targetMean: [5, 6] });
    const input = npy('care_input.npy');
    const out = await careamist.engineModel!.predict(input.data as Float32Array, input.shape);
    expect(maxAbsDiff(out.data, npy('care_output.npy').data as Float32Array)).toBeLessThan(1e-4);
    await careamist.dispose();
  });

  it('names the first mismatching tensor and both shapes', async () => {
    const careamist = await CAREamist.fromCheckpoint(fixture('n2v2.ckpt'), { runtime }, 'n2v2.ckpt');
    const { tensors } = readLightningCheckpoint(fixture('care_channels.ckpt'), 'care_channels.ckpt');
    const err = thrown(() => careamist.engineModel!.loadTensors(tensors, 'care_channels.ckpt'));
    expect(err.message).toBe(
      'care_channels.ckpt: tensor encoder.encoder_blocks.0.conv1.weight has shape [16,1,3,3], expected [8,1,3,3]',
    );
    await careamist.dispose();
  });

  it('is a model for the command line: pathKind, loadModel, predict', async () => {
    const path = join(tmp, 'run.ckpt');
    writeFileSync(path, fixture('n2v2.ckpt'));
    expect(await pathKind(path)).toBe('checkpoint');
    const model = await loadModel(path, { runtime });
    expect(model).toBeInstanceOf(CAREamist);
    const image = {
      data: new Float32Array(32 * 32).map((_, i) => 10 + Math.sin(i)),
      shape: [32, 32],
      axes: 'YX',
    };
    const out = await model.predict(image);
    expect(out.shape).toEqual([32, 32]);
    await model.dispose();
  });

  it('refuses a bare state dict: it has no configuration', async () => {
    const err = await CAREamist.fromCheckpoint(fixture('views.pt'), { runtime }, 'views.pt').catch(
      (e: Error) => e,
    );
    expect((err as Error).message).toMatch(/^views\.pt: a bare state dict/);
  });
});
