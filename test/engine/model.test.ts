import { describe, expect, it } from 'vitest';
import { createModel, decodeSafetensors, encodeSafetensors, type Runtime } from '../../src/engine/index.js';
import { isCareamicsError } from '../../src/errors.js';
import { mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime, webRuntime } from '../helpers/runtimes.js';

function fixedBatch(shape: number[], seed = 5) {
  const rand = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const input = Float32Array.from({ length: size }, () => rand() * 2 - 1);
  // A target the UNet can fit: a smooth function of the input and its neighbour.
  const target = Float32Array.from(input, (v, i) => Math.sin(3 * v) + 0.5 * input[(i + 1) % size]);
  return { input, target, shape };
}

async function overfit(runtime: Runtime, steps: number) {
  const model = await createModel(runtime, { loss: 'mse', seed: 1 });
  const batch = fixedBatch([4, 1, 32, 32]);
  const first = await model.trainStep(batch);
  let last = first;
  for (let s = 1; s < steps; s++) last = await model.trainStep(batch);
  await model.dispose();
  return { first, last };
}

describe('Model (CAREamics N2V default UNet)', () => {
  it('overfits a fixed batch on onnxruntime-node: loss falls ≥ 100× within 200 steps', async () => {
    const { first, last } = await overfit(nodeRuntime, 200);
    expect(first / last).toBeGreaterThan(100);
  });

  it('overfits a fixed batch on onnxruntime-web (wasm): loss falls ≥ 100× within 200 steps', async () => {
    const { first, last } = await overfit(await webRuntime(), 200);
    expect(first / last).toBeGreaterThan(100);
  });

  it('predict graph (BN folded, weights as initializers) equals the eval-mode forward to 1e-4', async () => {
    const model = await createModel(nodeRuntime, { loss: 'mse', seed: 2 });
    const batch = fixedBatch([2, 1, 32, 32], 9);
    for (let s = 0; s < 5; s++) await model.trainStep(batch);
    const { prediction } = await model.evaluate(batch);
    const { data, shape } = await model.predict(batch.input, batch.shape);
    expect(shape).toEqual([2, 1, 32, 32]);
    let maxAbs = 0;
    let maxDiff = 0;
    for (let i = 0; i < data.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(prediction[i]));
      maxDiff = Math.max(maxDiff, Math.abs(prediction[i] - data[i]));
    }
    expect(maxDiff / maxAbs).toBeLessThan(1e-4);
    // Dynamic sizes: the same session takes another batch and spatial size.
    const other = await model.predict(new Float32Array(3 * 48 * 64), [3, 1, 48, 64]);
    expect(other.shape).toEqual([3, 1, 48, 64]);
    await model.dispose();
  });

  it('saves and restores parameters, batch-norm statistics and optimizer state as safetensors', async () => {
    const a = await createModel(nodeRuntime, { loss: 'mse', seed: 3 });
    const batch = fixedBatch([2, 1, 16, 16]);
    for (let s = 0; s < 3; s++) await a.trainStep(batch);
    const bytes = a.saveState({ epoch: '7' });
    const b = await createModel(nodeRuntime, { loss: 'mse', seed: 99 });
    expect(b.loadState(bytes).epoch).toBe('7');
    expect(b.state.step).toBe(3);
    expect(b.state.params).toEqual(a.state.params);
    expect(b.state.buffers).toEqual(a.state.buffers);
    expect(b.state.slots).toEqual(a.state.slots);
    // Same state ⇒ the same next step.
    expect(await b.trainStep(batch)).toBe(await a.trainStep(batch));
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('rejects batches and prediction inputs of the wrong shape with a tagged error', async () => {
    const model = await createModel(nodeRuntime, { seed: 1 });
    const bad = fixedBatch([2, 1, 16, 16]);
    await expect(model.trainStep(bad)).rejects.toThrow(/n2v loss needs a mask/);
    await expect(model.predict(new Float32Array(2 * 30 * 30), [2, 1, 30, 30])).rejects.toThrow(
      /multiples of 4/,
    );
    const error = await model.predict(new Float32Array(32 * 32), [1, 2, 16, 32]).catch((e) => e);
    expect(isCareamicsError(error, 'EngineError')).toBe(true);
    await model.dispose();
  });
});

describe('safetensors', () => {
  it('round-trips tensors and metadata, and reads a header written by the reference format', () => {
    const tensors = {
      'a.weight': { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      b: { shape: [1], data: Float32Array.of(-1) },
    };
    const bytes = encodeSafetensors(tensors, { format: 'pt' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ format: 'pt' });
    expect(decoded.tensors['a.weight']).toEqual(tensors['a.weight']);
    expect(decoded.tensors.b).toEqual(tensors.b);
  });

  it('rejects truncated and malformed files clearly', () => {
    expect(() => decodeSafetensors(new Uint8Array(3), 'x.safetensors')).toThrow(
      /x.safetensors: file is 3 bytes/,
    );
    const bytes = encodeSafetensors({ a: { shape: [4], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'y')).toThrow(/inconsistent offsets/);
  });
});
