import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskedIndices } from '../../src/engine/maskedIndex.js';
import { runSession } from '../../src/engine/runtime.js';
import { constant, grad, input, mul, sub, Tensor, toOnnx } from '../../src/graph/index.js';
import {
  type DataAffine,
  type Pn2vNoise,
  pn2vEstimate,
  pn2vLoss,
  pn2vMaskedLoss,
} from '../../src/models/pn2v.js';
import { checkGradients, mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime } from '../helpers/runtimes.js';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch)
  console.warn('PN2V parity skipped: install the reference with `apt-get install -y python3-torch`.');

/** A Gaussian noise model as a graph, for these tests only (the library's noise models live in src/noise). */
const gaussianNoise = (sigma: number) => (observation: Tensor, signal: Tensor) => {
  const d = sub(observation, signal);
  return sub(mul(mul(d, d), -1 / (2 * sigma * sigma)), 0.5 * Math.log(2 * Math.PI * sigma * sigma));
};

/** checkGradients weights its output; a scalar loss goes in as a vector of one. */
const asVector = (loss: Tensor) => mul(loss, constant([1], [1]));

const SIGMA = 20;
const noises: Record<'gaussian' | 'samples', Pn2vNoise> = {
  gaussian: { prior: 'gaussian', sigma: SIGMA },
  samples: { prior: 'samples', logLikelihood: gaussianNoise(SIGMA) },
};

/** Two channels with different raw ranges: the affine is applied per channel. */
const affine: DataAffine = { offset: [100, 40], scale: [30, 12] };

function randomValues(n: number, rand: () => number, spread = 1) {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * spread);
}

function fixedMask(n: number, rand: () => number) {
  const mask = Float32Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
  mask[0] = 1;
  return mask;
}

/** The engine's masked-pixel index of a (B, C, …) mask, as a graph constant (B, C, M). */
function indexOf(mask: Float32Array, shape: number[], minPerRow = 0): Tensor {
  const pixels = shape.slice(2).reduce((a, b) => a * b, 1);
  const { data, perRow } = maskedIndices(mask, shape[0] * shape[1], pixels, minPerRow);
  return new Tensor('Constant', [], {}, [shape[0], shape[1], perRow], 'int64', data);
}

describe('PN2V loss gradients (finite differences)', () => {
  for (const [prior, k] of [
    ['gaussian', 2],
    ['samples', 5],
  ] as const) {
    it(`${prior} prior at the masked pixels only, two channels`, async () => {
      const rand = mulberry32(5);
      const shape = [2, 2, 4, 4];
      const n = shape.reduce((a, b) => a * b, 1);
      const observation = constant(randomValues(n, rand), shape);
      const maskValues = fixedMask(n, rand);
      const mask = constant(maskValues, shape);
      await checkGradients({
        shapes: [[2, 2 * k, 4, 4]],
        build: (prediction) =>
          asVector(
            pn2vMaskedLoss(prediction, observation, mask, indexOf(maskValues, shape), noises[prior], affine),
          ),
        eps: 1e-3,
      });
    });
  }

  for (const [prior, k] of [
    ['gaussian', 2],
    ['samples', 5],
  ] as const) {
    it(`${prior} prior, two channels`, async () => {
      const rand = mulberry32(3);
      const shape = [2, 2, 4, 4];
      const n = shape.reduce((a, b) => a * b, 1);
      const observation = constant(randomValues(n, rand), shape);
      const mask = constant(fixedMask(n, rand), shape);
      await checkGradients({
        shapes: [[2, 2 * k, 4, 4]],
        build: (prediction) => asVector(pn2vLoss(prediction, observation, mask, noises[prior], affine)),
        eps: 1e-3,
      });
    });
  }

  it('samples far from the observation (log-sum-exp keeps the loss finite)', async () => {
    const shape = [1, 1, 2, 2];
    const observation = constant([0, 0, 0, 0], shape);
    const mask = constant([1, 1, 1, 1], shape);
    await checkGradients({
      shapes: [[1, 3, 2, 2]],
      // σ = 1 raw on a scale of 30: a sample 1 away in normalized units is 30σ away (p ≈ e^-450 in float32 = 0).
      build: (p) =>
        asVector(
          pn2vLoss(
            mul(p, 0.2),
            observation,
            mask,
            { prior: 'samples', logLikelihood: gaussianNoise(1) },
            {
              offset: [0],
              scale: [30],
            },
          ),
        ),
      sample: (r) => 5 + r(),
      tolerance: 2e-2,
    });
  });
});

describe('PN2V loss at the masked pixels equals the mask-weighted loss over all pixels', () => {
  for (const [prior, k] of [
    ['gaussian', 2],
    ['samples', 7],
  ] as const) {
    for (const minPerRow of [0, 32]) {
      it(`${prior} prior, rows padded to at least ${minPerRow}`, async () => {
        const rand = mulberry32(13);
        const shape = [3, 2, 8, 8];
        const n = shape.reduce((a, b) => a * b, 1);
        const predictionValues = randomValues(n * k, rand, 1.5);
        const observationValues = randomValues(n, rand, 1.5);
        const maskValues = fixedMask(n, rand);
        const prediction = input('prediction', [shape[0], shape[1] * k, ...shape.slice(2)]);
        const observation = input('observation', shape);
        const mask = input('mask', shape);
        const everywhere = pn2vLoss(prediction, observation, mask, noises[prior], affine);
        const masked = pn2vMaskedLoss(
          prediction,
          observation,
          mask,
          indexOf(maskValues, shape, minPerRow),
          noises[prior],
          affine,
        );
        const [gradEverywhere] = grad(everywhere, [prediction]);
        const [gradMasked] = grad(masked, [prediction]);
        const session = await nodeRuntime.ort.InferenceSession.create(
          toOnnx({
            name: 'pn2v_masked',
            inputs: [prediction, observation, mask],
            outputs: { everywhere, masked, gradEverywhere, gradMasked },
          }),
          nodeRuntime.sessionOptions,
        );
        const out = await runSession(nodeRuntime, session, {
          prediction: { data: predictionValues, dims: prediction.shape },
          observation: { data: observationValues, dims: shape },
          mask: { data: maskValues, dims: shape },
        });
        expect(out.masked.data[0]).toBeCloseTo(out.everywhere.data[0], 5);
        const a = out.gradMasked.data;
        const b = out.gradEverywhere.data;
        const scale = Math.max(...Array.from(b, Math.abs));
        expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-5 * scale);
      });
    }
  }
});

describe.skipIf(!hasTorch)('PN2V loss, gradient and estimates against a PyTorch reference', () => {
  for (const [prior, k] of [
    ['gaussian', 2],
    ['samples', 7],
  ] as const) {
    it(`${prior} prior`, async () => {
      const rand = mulberry32(11);
      const shape = [2, 2, 8, 8];
      const n = shape.reduce((a, b) => a * b, 1);
      const predictionValues = randomValues(n * k, rand, 1.5);
      const observationValues = randomValues(n, rand, 1.5);
      const maskValues = fixedMask(n, rand);
      const prediction = input('prediction', [shape[0], shape[1] * k, ...shape.slice(2)]);
      const observation = input('observation', shape);
      const mask = input('mask', shape);
      const loss = pn2vLoss(prediction, observation, mask, noises[prior], affine);
      const [gradient] = grad(loss, [prediction]);
      const outputs = {
        loss,
        gradient,
        mmse: pn2vEstimate(prediction, observation, noises[prior], affine, 'mmse'),
        prior: pn2vEstimate(prediction, observation, noises[prior], affine, 'prior'),
      };
      const session = await nodeRuntime.ort.InferenceSession.create(
        toOnnx({ name: 'pn2v', inputs: [prediction, observation, mask], outputs }),
        nodeRuntime.sessionOptions,
      );
      const ours = await runSession(nodeRuntime, session, {
        prediction: { data: predictionValues, dims: prediction.shape },
        observation: { data: observationValues, dims: shape },
        mask: { data: maskValues, dims: shape },
      });
      const reference = JSON.parse(
        execFileSync(PYTHON, [join(import.meta.dirname, 'pn2v_reference.py')], {
          input: JSON.stringify({
            prior,
            k,
            shape,
            sigma: SIGMA,
            scale: affine.scale,
            offset: affine.offset,
            prediction: [...predictionValues],
            observation: [...observationValues],
            mask: [...maskValues],
          }),
        }).toString(),
      ) as { loss: number; grad: number[]; mmse: number[]; prior: number[] };
      expect(ours.loss.data[0]).toBeCloseTo(reference.loss, 4);
      const maxDiff = (a: ArrayLike<number>, b: number[]) => Math.max(...b.map((v, i) => Math.abs(a[i] - v)));
      const maxAbs = (b: number[]) => Math.max(...b.map(Math.abs));
      expect(maxDiff(ours.gradient.data, reference.grad) / maxAbs(reference.grad)).toBeLessThan(1e-4);
      expect(maxDiff(ours.mmse.data, reference.mmse)).toBeLessThan(1e-4);
      expect(maxDiff(ours.prior.data, reference.prior)).toBeLessThan(1e-5);
    });
  }
});
