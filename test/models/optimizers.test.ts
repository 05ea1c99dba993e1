import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/index.js';
import { runSession } from '../../src/engine/runtime.js';
import { input, toOnnx } from '../../src/graph/index.js';
import { clipGradients, type GradientClip } from '../../src/models/optimizers.js';
import { mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime } from '../helpers/runtimes.js';

async function clip(values: number[], spec: GradientClip): Promise<number[]> {
  const g = input('g', [values.length]);
  const bytes = toOnnx({ name: 'clip', inputs: [g], outputs: { clipped: clipGradients(g, spec) } });
  const session = await nodeRuntime.ort.InferenceSession.create(bytes, nodeRuntime.sessionOptions);
  const { clipped } = await runSession(nodeRuntime, session, {
    g: { data: Float32Array.from(values), dims: [values.length] },
  });
  return Array.from(clipped!.data);
}

describe('gradient clipping (Lightning gradient_clip_val)', () => {
  it('by norm scales the whole gradient by c / (‖g‖ + 1e-6) when the norm exceeds c, else leaves it', async () => {
    const scaled = await clip([3, 4], { value: 1, algorithm: 'norm' });
    expect(scaled[0]).toBeCloseTo(0.6, 6);
    expect(scaled[1]).toBeCloseTo(0.8, 6);
    expect(await clip([3, 4], { value: 10, algorithm: 'norm' })).toEqual([3, 4]);
  });

  it('by value clamps each component to [−c, c]', async () => {
    expect(await clip([-3, 0.5, 2, -0.25], { value: 1, algorithm: 'value' })).toEqual([-1, 0.5, 1, -0.25]);
  });

  it('bounds an SGD step of the UNet: no parameter moves by more than lr · c', async () => {
    const rand = mulberry32(4);
    const shape = [2, 1, 16, 16];
    const batch = {
      input: Float32Array.from({ length: 512 }, () => rand() * 2 - 1),
      target: Float32Array.from({ length: 512 }, () => rand() * 20),
      shape,
    };
    const largestMove = async (gradientClip?: GradientClip) => {
      const model = await createModel(nodeRuntime, {
        loss: 'mse',
        seed: 1,
        optimizer: { name: 'SGD', gradientClip },
        learningRate: 1,
      });
      const before = Float32Array.from(model.state.params);
      await model.trainStep(batch);
      // float32: a parameter near 0.5 rounds to ±6e-8 around its exact update
      const moved = before.reduce((m, v, i) => Math.max(m, Math.abs(model.state.params[i]! - v)), 0);
      await model.dispose();
      return moved;
    };
    expect(await largestMove()).toBeGreaterThan(1e-2);
    expect(await largestMove({ value: 1e-3, algorithm: 'value' })).toBeLessThanOrEqual(1e-3 + 1e-6);
    expect(await largestMove({ value: 1e-3, algorithm: 'norm' })).toBeLessThanOrEqual(1e-3 + 1e-6);
  });
});
