/** PyTorch's default initialisation, from a seeded generator so runs are reproducible. */
import { Rng } from '../data/random.js';
import type { BufferSpec, FlatLayout, ParameterSpec } from './layers.js';

/**
 * Conv weights and biases U(−1/√fanIn, 1/√fanIn) (kaiming_uniform with a = √5), batch-norm weight 1 and
 * bias 0, running mean 0 and variance 1.
 */
export function initialParameters(
  specs: readonly ParameterSpec[],
  layout: FlatLayout,
  seed: number,
): Float32Array {
  const rng = new Rng(seed);
  const flat = new Float32Array(layout.size);
  for (const spec of specs) {
    const view = layout.view(flat, spec.name);
    if (spec.init === 'ones') view.fill(1);
    else if (spec.init === 'kaiming_uniform') {
      const bound = 1 / Math.sqrt(spec.fanIn);
      for (let i = 0; i < view.length; i++) view[i] = rng.uniform(-bound, bound);
    }
  }
  return flat;
}

export function initialBuffers(specs: readonly BufferSpec[], layout: FlatLayout): Float32Array {
  const flat = new Float32Array(layout.size);
  for (const spec of specs) if (spec.init === 'ones') layout.view(flat, spec.name).fill(1);
  return flat;
}
