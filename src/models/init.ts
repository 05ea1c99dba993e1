/** PyTorch's default initialisation, from a seeded generator so runs are reproducible. */
import type { BufferSpec, FlatLayout, ParameterSpec } from './layers.js';

/** A small, fast, seedable generator (mulberry32) returning floats in [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Conv weights and biases U(−1/√fanIn, 1/√fanIn) (kaiming_uniform with a = √5), batch-norm weight 1 and
 * bias 0, running mean 0 and variance 1.
 */
export function initialParameters(
  specs: readonly ParameterSpec[],
  layout: FlatLayout,
  seed: number,
): Float32Array {
  const random = seededUniform(seed);
  const flat = new Float32Array(layout.size);
  for (const spec of specs) {
    const view = layout.view(flat, spec.name);
    if (spec.init === 'ones') view.fill(1);
    else if (spec.init === 'kaiming_uniform') {
      const bound = 1 / Math.sqrt(spec.fanIn);
      for (let i = 0; i < view.length; i++) view[i] = (random() * 2 - 1) * bound;
    }
  }
  return flat;
}

export function initialBuffers(specs: readonly BufferSpec[], layout: FlatLayout): Float32Array {
  const flat = new Float32Array(layout.size);
  for (const spec of specs) if (spec.init === 'ones') layout.view(flat, spec.name).fill(1);
  return flat;
}
