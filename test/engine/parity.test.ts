import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UNetConfig } from '../../src/config/index.js';
import { buildTrainingGraph, describeModel, runSession } from '../../src/engine/index.js';
import { nodeRuntime as engineNodeRuntime } from '../../src/engine/node.js';
import { DEFAULT_UNET, initialBuffers, initialParameters } from '../../src/models/index.js';
import { type OptimizerSpec, optimizerSlots } from '../../src/models/optimizers.js';
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

interface Case {
  architecture: UNetConfig;
  shape: number[];
  d: ReturnType<typeof describeModel>;
  params: Float32Array;
  buffers: Float32Array;
  feeds: Record<string, { data: Float32Array; dims: number[] }>;
  dir: string;
}

/** Random weights and a random N2V batch (input, target, 10 % mask), written to a fresh folder for Python. */
function makeCase(overrides: Partial<UNetConfig>, shape: number[]): Case {
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
  const targetDims = [shape[0], architecture.num_classes, ...shape.slice(2)];
  const feeds = {
    input: { data: input, dims: shape },
    target: { data: target, dims: targetDims },
    mask: { data: mask, dims: targetDims },
  };
  return { architecture, shape, d, params, buffers, feeds, dir };
}

/** Runs torch_parity.py on a case; `optimizer` as that script documents (default: one Adam step). */
function runTorch(c: Case, optimizer?: { name: string; kwargs: Record<string, unknown>; steps: number }) {
  execFileSync(PYTHON, [join(import.meta.dirname, 'torch_parity.py')], {
    input: JSON.stringify({
      architecture: c.architecture,
      entries: c.d.parameterLayout.entries,
      buffers: c.d.bufferLayout.entries,
      shape: c.shape,
      dir: c.dir,
      optimizer,
    }),
  });
  return {
    reference: JSON.parse(readFileSync(join(c.dir, 'loss.json'), 'utf8')),
    // Copy: small Buffers share a pooled ArrayBuffer at an arbitrary offset.
    f64: (name: string) => new Float64Array(Uint8Array.from(readFileSync(join(c.dir, name))).buffer),
  };
}

/** Where the gradient is not numerically zero (conv biases before batch norm have an exactly-zero gradient). */
function informative(referenceGrads: Float64Array): (_: number, i: number) => boolean {
  const rms = Math.sqrt(referenceGrads.reduce((a, g) => a + g * g, 0) / referenceGrads.length);
  return (_, i) => Math.abs(referenceGrads[i]) > 1e-3 * rms;
}

/** The CPU's blocked conv kernels (16 channels on AVX-512, 8 on AVX2), which the engine uses where it can. */
const nchwcBlock = await engineNodeRuntime(2).nchwcBlock!();

describe.skipIf(!hasTorch)('parity with PyTorch autograd (same weights and batch)', () => {
  const variants = cases.flatMap(([label, overrides, shape]) => [
    [label, overrides, shape, undefined] as const,
    // Every case with convs whose channel counts are whole blocks runs again on the blocked kernels.
    ...(nchwcBlock && (overrides.num_channels_init ?? 32) % nchwcBlock === 0 && !overrides.conv_dims
      ? [[`${label}, blocked conv kernels (${nchwcBlock} channels)`, overrides, shape, nchwcBlock] as const]
      : []),
  ]);
  for (const [label, overrides, shape, block] of variants) {
    it(label, async () => {
      const c = makeCase(overrides, shape);
      const { d, params, buffers } = c;
      const { reference, f64 } = runTorch(c);

      const graph = buildTrainingGraph(d, {
        inputShape: shape,
        loss: 'n2v',
        optimizer: { name: 'Adam' },
        exposeGradients: true,
        nchwcBlock: block,
      });
      if (block) expect(graphUsesBlockedConvs(graph)).toBe(true);
      const session = await nodeRuntime.ort.InferenceSession.create(graph, nodeRuntime.sessionOptions);
      const zeros = new Float32Array(params.length);
      const out = await runSession(nodeRuntime, session, {
        ...c.feeds,
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
      // numerically zero (their sign is random).
      const keep = informative(f64('grads.f64'));
      const referenceAfter = f64('params_out.f64');
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

const STEPS = 4;
/**
 * Our optimizer spec, the torch.optim class, its arguments (PyTorch's defaults otherwise, as ours) and lr. Weight
 * decay is large enough that leaving it out (or AdamW's decoupling) moves the parameters past the tolerance.
 */
const optimizers: [OptimizerSpec, string, Record<string, unknown>, number][] = [
  [{ name: 'AdamW', parameters: { weight_decay: 0.1 } }, 'AdamW', { weight_decay: 0.1 }, 1e-3],
  [{ name: 'Adamax', parameters: { weight_decay: 1e-2 } }, 'Adamax', { weight_decay: 1e-2 }, 2e-3],
  [
    { name: 'SGD', parameters: { momentum: 0.9, weight_decay: 1e-2 } },
    'SGD',
    { momentum: 0.9, weight_decay: 1e-2 },
    0.1,
  ],
];

describe.skipIf(!hasTorch)(`optimizer parity with torch.optim over ${STEPS} steps of the same batch`, () => {
  for (const [spec, torchName, kwargs, lr] of optimizers) {
    it(`${torchName}(lr=${lr}, ${JSON.stringify(kwargs)})`, async () => {
      const shape = [2, 1, 16, 16];
      const c = makeCase({ num_channels_init: 16 }, shape);
      const { d, params, buffers } = c;
      const { f64 } = runTorch(c, { name: torchName, kwargs: { lr, ...kwargs }, steps: STEPS });

      const graph = buildTrainingGraph(d, { inputShape: shape, loss: 'n2v', optimizer: spec });
      const session = await nodeRuntime.ort.InferenceSession.create(graph, nodeRuntime.sessionOptions);
      const slotNames = optimizerSlots(spec.name);
      const state: Record<string, Float32Array> = { params, buffers };
      for (const name of slotNames) state[name] = new Float32Array(params.length);
      for (let step = 1; step <= STEPS; step++) {
        const out = await runSession(nodeRuntime, session, {
          ...c.feeds,
          ...Object.fromEntries(
            Object.entries(state)
              .filter(([, data]) => data.length > 0)
              .map(([name, data]) => [name, { data, dims: [data.length] }]),
          ),
          lr: { data: Float32Array.of(lr), dims: [] },
          step: { data: Float32Array.of(step), dims: [] },
        });
        for (const name of Object.keys(state))
          if (state[name]!.length) state[name] = out[`${name}_out`]!.data;
      }
      await session.release();

      // Compare where the first gradient is not numerically zero: Adam-like updates of exactly-zero gradients
      // have a random sign.
      const keep = informative(f64('grads.f64'));
      const ourUpdate = Float32Array.from(state.params!, (p, i) => p - params[i]).filter(keep);
      const referenceUpdate = Float64Array.from(f64('params_out.f64'), (p, i) => p - params[i]).filter(keep);
      expect(ourUpdate.length).toBeGreaterThan(params.length / 10);
      expect(relativeError(ourUpdate, referenceUpdate)).toBeLessThan(1e-3);
      for (const name of slotNames) {
        expect(relativeError(state[name]!.filter(keep), f64(`${name}.f64`).filter(keep)), name).toBeLessThan(
          1e-3,
        );
      }
      // Those zero-gradient biases drift by ±lr per Adam-like step, which shifts the batch means behind the running
      // means (the normalized outputs do not change).
      expect(relativeError(state.buffers!, f64('buffers_out.f64'))).toBeLessThan(1e-3);
    });
  }
});

function graphUsesBlockedConvs(graph: Uint8Array): boolean {
  return Buffer.from(graph).includes('com.microsoft.nchwc');
}
