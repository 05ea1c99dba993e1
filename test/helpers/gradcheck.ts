import { expect } from 'vitest';
import { Rng } from '../../src/data/random.js';
import { runSession } from '../../src/engine/runtime.js';
import { constant, grad, input, mul, reduceSum, type Tensor, toOnnx } from '../../src/graph/index.js';
import { nodeRuntime } from './runtimes.js';

/** Uniform draws in [0, 1) from the project's seeded generator. */
export function mulberry32(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.random();
}

export interface GradCase {
  shapes: number[][];
  build: (...xs: Tensor[]) => Tensor;
  /** Draws input values; default uniform in [-1, 1]. */
  sample?: (rand: () => number, inputIndex: number) => number;
  /** Inputs drawn as a shuffled grid of values 0.01 apart, so no two can swap order within ±ε (MaxPool). */
  distinct?: boolean;
  /** Inputs whose gradients are checked (default: all). */
  differentiable?: number[];
  eps?: number;
  tolerance?: number;
}

/**
 * Finite-difference check of every input gradient: for random directions v, the analytic ⟨∇f, v⟩ must match
 * (f(x + εv) − f(x − εv)) / 2ε, where f = Σ out · R for a fixed random R.
 */
export async function checkGradients(
  { shapes, build, sample, distinct, differentiable, eps = 1e-3, tolerance = 1e-2 }: GradCase,
  seed = 1,
) {
  const rand = mulberry32(seed);
  const inputs = shapes.map((s, i) => input(`x${i}`, s));
  const out = build(...inputs);
  const weights = constant(
    Array.from({ length: out.size }, () => rand() * 2 - 1),
    out.shape,
  );
  const loss = reduceSum(
    mul(out, weights),
    out.shape.map((_, i) => i),
    false,
  );
  const wrt = differentiable ?? inputs.map((_, i) => i);
  const grads = grad(
    loss,
    wrt.map((i) => inputs[i]),
  );
  const outputs: Record<string, Tensor> = { loss };
  grads.forEach((g, i) => {
    outputs[`g${i}`] = g;
  });
  const session = await nodeRuntime.ort.InferenceSession.create(
    toOnnx({ name: 'gradcheck', inputs, outputs }),
    nodeRuntime.sessionOptions,
  );
  const draw = sample ?? ((r: () => number) => r() * 2 - 1);
  const values = inputs.map((t, i) =>
    distinct ? shuffledGrid(t.size, rand) : Float32Array.from({ length: t.size }, () => draw(rand, i)),
  );
  const feeds = (vals: Float32Array[]) =>
    Object.fromEntries(vals.map((data, i) => [`x${i}`, { data, dims: inputs[i].shape }]));
  const base = await runSession(nodeRuntime, session, feeds(values));

  for (let direction = 0; direction < 3; direction++) {
    const v = values.map((x) => Float32Array.from(x, () => rand() * 2 - 1));
    let analytic = 0;
    wrt.forEach((inputIndex, i) => {
      const g = base[`g${i}`].data;
      for (let k = 0; k < g.length; k++) analytic += g[k] * v[inputIndex][k];
    });
    const shifted = (sign: number) =>
      values.map((x, i) => Float32Array.from(x, (xi, k) => xi + sign * eps * v[i][k]));
    const plus = (await runSession(nodeRuntime, session, feeds(shifted(1)))).loss.data[0];
    const minus = (await runSession(nodeRuntime, session, feeds(shifted(-1)))).loss.data[0];
    const numeric = (plus - minus) / (2 * eps);
    const scale = Math.max(1, Math.abs(analytic), Math.abs(numeric));
    expect(
      Math.abs(analytic - numeric) / scale,
      `direction ${direction}: analytic ${analytic} vs numeric ${numeric}`,
    ).toBeLessThan(tolerance);
  }
}

function shuffledGrid(size: number, rand: () => number): Float32Array {
  const values = Float32Array.from({ length: size }, (_, k) => (k - size / 2) * 0.01);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return values;
}
