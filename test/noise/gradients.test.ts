/**
 * The log-likelihood's gradients, checked against finite differences: with respect to the signal and the
 * observation (PN2V trains a network through them) and to the mixture's weight (fitting does).
 */
import { describe, expect, it } from 'vitest';
import { reshape } from '../../src/graph/index.js';
import {
  createNoiseModel,
  logLikelihood,
  mixtureLogLikelihood,
  noiseModelLogLikelihood,
} from '../../src/noise/index.js';
import { checkGradients } from '../helpers/gradcheck.js';
import { runPixelGraph } from './helpers.js';

const settings = { n_gaussian: 2, n_coeff: 3, min_signal: 0, max_signal: 1, min_sigma: 1e-4, tol: 1e-10 };

describe('noise model log-likelihood gradients', () => {
  it('with respect to observation, signal and weight (2 Gaussians, quadratic)', async () => {
    await checkGradients({
      shapes: [[24], [24], [6 * 3]],
      build: (observation, signal, weight) =>
        mixtureLogLikelihood(observation!, signal!, reshape(weight!, [6, 3]), settings),
      // Signals inside [min_signal, max_signal]: the regressed variances stay positive, clear of the floor.
      sample: (rand, i) => (i === 1 ? rand() : rand() * 2 - 1),
      tolerance: 2e-2,
    });
  });

  it('the graph and the JS evaluator agree on a model with fixed weights', async () => {
    const model = createNoiseModel({
      model_type: 'GaussianMixtureNoiseModel',
      ...settings,
      weight: [
        [0.2, -0.1, 0.05],
        [-0.3, 0.4, 0],
        [-2, 0.5, 0.1],
        [-1.5, 0.2, 0.3],
        [0.5, -1, 0.2],
        [-0.5, 1, 0],
      ],
    });
    const signal = Float32Array.from({ length: 50 }, (_, i) => i / 49);
    const observation = signal.map((s, i) => s + ((i % 7) - 3) * 0.2);
    const graph = await runPixelGraph((o, s) => noiseModelLogLikelihood(o, s, model), observation, signal);
    const js = logLikelihood(model, observation, signal);
    js.forEach((v, i) => {
      expect(graph[i]).toBeCloseTo(v, 4);
    });
  });
});
