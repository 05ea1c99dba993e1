import type { Model } from '../../src/engine/index.js';

/** A model whose steps cost nothing and return loss 1, so tests exercise the training loop alone. */
export function stubModel(stepMilliseconds = 0) {
  const calls = { train: 0, evaluate: 0 };
  const model = {
    learningRate: 1e-3,
    trainStep: async () => {
      calls.train++;
      const until = performance.now() + stepMilliseconds;
      while (performance.now() < until);
      return 1;
    },
    evaluate: async () => {
      calls.evaluate++;
      return { loss: 1 };
    },
    syncState: async () => undefined,
    runtime: { name: 'stub', device: { name: 'cpu', adapter: 'none: a stub' } },
    // A checkpoint of the stub is its metadata alone.
    saveState: (metadata: Record<string, string>) => new TextEncoder().encode(JSON.stringify(metadata)),
    loadState: (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)),
  } as unknown as Model;
  return { model, calls };
}
