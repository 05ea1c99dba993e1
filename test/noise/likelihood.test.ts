/**
 * One definition, three evaluators: our JS `likelihood`, our graph (run by onnxruntime-node), and a PyTorch
 * transcription of CAREamics' `GaussianMixtureNoiseModel.likelihood` reading the `.npz` that numpy wrote.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../src/io/npy.js';
import {
  createNoiseModel,
  decodeNoiseModelNpz,
  likelihood,
  logLikelihood,
  type NoiseModel,
  noiseModelLikelihood,
  noiseModelLogLikelihood,
  noiseModelMoments,
} from '../../src/noise/index.js';
import { HAS_TORCH, PYTHON, runPixelGraph } from './helpers.js';

if (!HAS_TORCH)
  console.warn('noise model PyTorch reference skipped: /usr/bin/python3 cannot import torch and numpy');

/** CAREamics' likelihood in torch float64, written from its equations; saves the model as CAREamics does. */
const TORCH_REFERENCE = `
import sys, numpy as np, torch
out = sys.argv[1]
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(3)
k, n = 3, 3
weight = rng.normal(size=(3 * k, n))
weight[k:2 * k, 0] += np.log(400.0)          # variances of a few hundred (raw counts)
min_signal, max_signal, min_sigma = 80.0, 2500.0, 50.0
np.savez(f'{out}/nm.npz', trained_weight=weight.astype(np.float32), min_signal=np.float64(min_signal),
         max_signal=np.float64(max_signal), min_sigma=np.array(min_sigma, dtype=np.float32))
w = torch.tensor(weight.astype(np.float32).astype(np.float64))
f32 = lambda a: torch.tensor(np.asarray(a).astype(np.float32).astype(np.float64))  # the inputs we read back
sig = f32(np.repeat(np.linspace(min_signal, max_signal, 40), 25))
obs = f32(sig.numpy() + np.tile(np.linspace(-4, 4, 25), 40) * 40.0)
u = (sig - min_signal) / (max_signal - min_signal)
poly = lambda c: sum(c[i] * u ** i for i in range(n))
mus = [poly(w[g]) for g in range(k)]
sds = [torch.sqrt(torch.clamp(poly(torch.exp(w[k + g])), min=min_sigma)) for g in range(k)]
als = [torch.exp(poly(w[2 * k + g]) + 1e-10) for g in range(k)]
total = sum(als)
als = [a / total for a in als]
mean = sum(a * m for a, m in zip(als, mus))
mus = [m - mean + sig for m in mus]
p = sum(a * torch.exp(-(obs - m) ** 2 / (2 * s * s)) / torch.sqrt(2 * np.pi * s * s) for a, m, s in zip(als, mus, sds)) + 1e-10
np.save(f'{out}/obs.npy', obs.numpy().astype(np.float32))
np.save(f'{out}/sig.npy', sig.numpy().astype(np.float32))
np.save(f'{out}/p.npy', p.numpy())
`;

const dir = mkdtempSync(join(tmpdir(), 'careamics-nm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const npy = (name: string) => decodeNpy(new Uint8Array(readFileSync(join(dir, name))));

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.abs(expected[i]!));
  }
  return worst;
}

describe.skipIf(!HAS_TORCH)('Gaussian mixture likelihood against a PyTorch reference', () => {
  if (HAS_TORCH) execFileSync(PYTHON, ['-c', TORCH_REFERENCE, dir]);
  const model = HAS_TORCH
    ? decodeNoiseModelNpz(new Uint8Array(readFileSync(join(dir, 'nm.npz'))), 'nm.npz')
    : undefined;
  const load = () => ({
    model: model!,
    obs: npy('obs.npy').data as Float32Array,
    sig: npy('sig.npy').data as Float32Array,
    p: npy('p.npy').data as Float64Array,
  });

  it('reads the numpy-written .npz', () => {
    const { model } = load();
    expect(model).toMatchObject({
      n_gaussian: 3,
      n_coeff: 3,
      min_signal: 80,
      max_signal: 2500,
      min_sigma: 50,
    });
  });

  it('JS likelihood matches (float64, 1e-6 relative)', () => {
    const { model, obs, sig, p } = load();
    // Our JS evaluator is float64 but returns float32: its rounding (6e-8) is the floor.
    expect(maxRelativeError(likelihood(model, obs, sig), p)).toBeLessThan(1e-6);
    const logs = logLikelihood(model, obs, sig);
    expect(maxRelativeError(Float64Array.from(logs, Math.exp), p)).toBeLessThan(1e-5);
  });

  it('graph likelihood and log-likelihood match (float32, 2e-5 relative)', async () => {
    const { model, obs, sig, p } = load();
    // float32 throughout: (x − μ)² / σ² with x, μ ~ 10³ costs ~1e-5 of relative precision in p.
    const graphP = await runPixelGraph((o, s) => noiseModelLikelihood(o, s, model), obs, sig);
    expect(maxRelativeError(graphP, p)).toBeLessThan(2e-5);
    const graphLogP = await runPixelGraph((o, s) => noiseModelLogLikelihood(o, s, model), obs, sig);
    expect(maxRelativeError(Float64Array.from(graphLogP, Math.exp), p)).toBeLessThan(2e-5);
  });
});

describe('noise model evaluators agree', () => {
  const sig = Float32Array.from({ length: 200 }, (_, i) => 100 + i * 7);
  const obs = sig.map((s, i) => s + ((i % 11) - 5) * 9);
  const gaussian: NoiseModel = createNoiseModel({ model_type: 'GaussianNoiseModel', sigma: 12 });

  it('Gaussian: JS and graph agree with the closed form', async () => {
    const expected = Array.from(
      obs,
      (o, i) => Math.exp(-0.5 * ((o - sig[i]!) / 12) ** 2) / (12 * Math.sqrt(2 * Math.PI)),
    );
    expect(maxRelativeError(likelihood(gaussian, obs, sig), expected)).toBeLessThan(1e-6);
    const graph = await runPixelGraph((o, s) => noiseModelLikelihood(o, s, gaussian), obs, sig);
    expect(maxRelativeError(graph, expected)).toBeLessThan(1e-5);
  });

  it('mixture log-likelihood stays finite far in the tails (p floors at tol)', async () => {
    const model = createNoiseModel({
      model_type: 'GaussianMixtureNoiseModel',
      weight: [
        [0, 0],
        [Math.log(100), 0],
        [0, 0],
      ],
      min_signal: 0,
      max_signal: 2000,
      min_sigma: 1,
    });
    const far = Float32Array.of(1e6, -1e6, 0);
    const at = Float32Array.of(0, 0, 0);
    const js = logLikelihood(model, far, at);
    const graph = await runPixelGraph((o, s) => noiseModelLogLikelihood(o, s, model), far, at);
    expect(js[0]).toBeCloseTo(Math.log(1e-10), 5);
    expect(graph[0]).toBeCloseTo(Math.log(1e-10), 3);
    expect(Array.from(graph).every(Number.isFinite)).toBe(true);
    // At the mean: N(0; 0, 100) = 1/√(2π·100).
    expect(js[2]).toBeCloseTo(Math.log(1 / Math.sqrt(2 * Math.PI * 100) + 1e-10), 6);
  });

  // The softmax over the components was shifted by the first logit: once that component died out while fitting
  // (its logit far below the others), exp overflowed and the fit stopped on NaN weights.
  it('a component whose logit is far below the others drops out without overflow', async () => {
    const live = [
      [3, 1],
      [-2, 0.5],
      [Math.log(50), 0],
      [Math.log(200), 1],
      [0.4, 0],
      [0, 0],
    ];
    const twoComponents = createNoiseModel({
      model_type: 'GaussianMixtureNoiseModel',
      n_gaussian: 2,
      weight: live,
      min_signal: 0,
      max_signal: 1000,
      min_sigma: 1,
    });
    const obs = Float32Array.from({ length: 60 }, (_, i) => 20 * i - 100);
    const sig = Float32Array.from({ length: 60 }, (_, i) => 15 * (i % 30));
    const expected = likelihood(twoComponents, obs, sig);
    for (const gap of [100, 1000]) {
      const withDead = createNoiseModel({
        model_type: 'GaussianMixtureNoiseModel',
        n_gaussian: 3,
        // Rows: means, log-variance coefficients, logits; the first component's logit is `gap` below.
        weight: [
          [7, 0],
          ...live.slice(0, 2),
          [Math.log(10), 0],
          ...live.slice(2, 4),
          [-gap, 0],
          ...live.slice(4),
        ],
        min_signal: 0,
        max_signal: 1000,
        min_sigma: 1,
      });
      const js = likelihood(withDead, obs, sig);
      const graph = await runPixelGraph((o, s) => noiseModelLikelihood(o, s, withDead), obs, sig);
      expect(maxRelativeError(js, expected), `JS, gap ${gap}`).toBeLessThan(1e-6);
      expect(maxRelativeError(graph, expected), `graph, gap ${gap}`).toBeLessThan(1e-4);
    }
  });

  it("a mixture's mean is the signal by construction", () => {
    const model = createNoiseModel({
      model_type: 'GaussianMixtureNoiseModel',
      n_gaussian: 2,
      weight: [
        [5, -3],
        [1, 2],
        [4, 0],
        [6, 1],
        [0.3, 1],
        [-0.2, 0],
      ],
      min_signal: 0,
      max_signal: 100,
      min_sigma: 0.5,
    });
    const { mean, std } = noiseModelMoments(model, sig);
    for (let i = 0; i < sig.length; i++) expect(mean[i]).toBeCloseTo(sig[i]!, 8);
    expect(Array.from(std).every((s) => s > 0)).toBe(true);
  });
});
