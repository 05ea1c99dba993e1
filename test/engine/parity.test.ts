import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UNetConfig } from '../../src/config/index.js';
import { buildTrainingGraph, describeModel, runSession } from '../../src/engine/index.js';
import { DEFAULT_UNET, initialBuffers, initialParameters } from '../../src/models/index.js';
import { mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime } from '../helpers/runtimes.js';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) {
  console.warn('PyTorch parity skipped: install the reference with `apt-get install -y python3-torch`.');
}

const workDir = mkdtempSync(join(tmpdir(), 'careamics-parity-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const cases: [string, Partial<UNetConfig>, number[]][] = [
  ['CAREamics N2V default (depth 2, 32 filters, batch norm)', {}, [4, 1, 32, 32]],
  ['N2V2 (MaxBlurPool, no top skip)', { n2v2: true }, [2, 1, 16, 16]],
  [
    'two independent channels, depth 3, residual',
    { in_channels: 2, num_classes: 2, depth: 3, num_channels_init: 8, residual: true },
    [2, 2, 16, 16],
  ],
  [
    'no batch norm, sigmoid',
    { use_batch_norm: false, final_activation: 'Sigmoid', num_channels_init: 16 },
    [2, 1, 16, 16],
  ],
  ['3D', { conv_dims: 3, num_channels_init: 8 }, [2, 1, 8, 16, 16]],
];

function relativeError(ours: Float32Array, reference: Float64Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < ours.length; i++) {
    diff += (ours[i] - reference[i]) ** 2;
    norm += reference[i] ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

describe.skipIf(!hasTorch)('parity with PyTorch autograd (same weights and batch)', () => {
  for (const [label, overrides, shape] of cases) {
    it(label, async () => {
      const architecture = { ...DEFAULT_UNET, ...overrides };
      const d = describeModel(architecture);
      const params = initialParameters(d.parameters, d.parameterLayout, 3);
      const buffers = initialBuffers(d.buffers, d.bufferLayout);
      const rand = mulberry32(11);
      const size = shape.reduce((a, b) => a * b, 1);
      const targetSize = (size / shape[1]) * architecture.num_classes;
      const input = Float32Array.from({ length: size }, () => rand() * 2 - 1);
      const target = Float32Array.from({ length: targetSize }, () => rand() * 2 - 1);
      const mask = Float32Array.from({ length: targetSize }, () => (rand() < 0.1 ? 1 : 0));
      const dir = mkdtempSync(join(workDir, 'case-'));
      for (const [name, data] of Object.entries({ params, buffers, input, target, mask })) {
        writeFileSync(join(dir, `${name}.f32`), data);
      }
      execFileSync(PYTHON, [join(import.meta.dirname, 'torch_parity.py')], {
        input: JSON.stringify({
          architecture,
          entries: d.parameterLayout.entries,
          buffers: d.bufferLayout.entries,
          shape,
          dir,
        }),
      });
      const reference = JSON.parse(readFileSync(join(dir, 'loss.json'), 'utf8'));
      // Copy: small Buffers share a pooled ArrayBuffer at an arbitrary offset.
      const f64 = (name: string) => new Float64Array(Uint8Array.from(readFileSync(join(dir, name))).buffer);

      const graph = buildTrainingGraph(d, {
        inputShape: shape,
        loss: 'n2v',
        optimizer: { name: 'Adam' },
        exposeGradients: true,
      });
      const session = await nodeRuntime.ort.InferenceSession.create(graph, nodeRuntime.sessionOptions);
      const zeros = new Float32Array(params.length);
      const targetDims = [shape[0], architecture.num_classes, ...shape.slice(2)];
      const out = await runSession(nodeRuntime, session, {
        input: { data: input, dims: shape },
        target: { data: target, dims: targetDims },
        mask: { data: mask, dims: targetDims },
        params: { data: params, dims: [params.length] },
        ...(buffers.length ? { buffers: { data: buffers, dims: [buffers.length] } } : {}),
        exp_avg: { data: zeros, dims: [zeros.length] },
        exp_avg_sq: { data: zeros, dims: [zeros.length] },
        lr: { data: Float32Array.of(1e-3), dims: [] },
        step: { data: Float32Array.of(1), dims: [] },
      });

      expect(d.parameterLayout.size).toBe(reference.parameters);
      expect(Math.abs(out.loss.data[0] - reference.loss) / Math.abs(reference.loss)).toBeLessThan(1e-4);
      expect(relativeError(out.grads.data, f64('grads.f64'))).toBeLessThan(1e-3);
      // Adam's first step moves each parameter by ≈ lr·sign(g): compare the updates where the gradient is not
      // numerically zero (conv biases before batch norm have an exactly-zero gradient and a random sign).
      const referenceGrads = f64('grads.f64');
      const rms = Math.sqrt(referenceGrads.reduce((a, g) => a + g * g, 0) / referenceGrads.length);
      const referenceAfter = f64('params_out.f64');
      const keep = (_: number, i: number) => Math.abs(referenceGrads[i]) > 1e-3 * rms;
      const ourUpdate = Float32Array.from(out.params_out.data, (p, i) => p - params[i]).filter(keep);
      const referenceUpdate = Float64Array.from(referenceAfter, (p, i) => p - params[i]).filter(keep);
      expect(ourUpdate.length).toBeGreaterThan(params.length / 10);
      expect(relativeError(ourUpdate, referenceUpdate)).toBeLessThan(1e-3);
      if (buffers.length)
        expect(relativeError(out.buffers_out.data, f64('buffers_out.f64'))).toBeLessThan(1e-5);
      await session.release();
    });
  }
});
