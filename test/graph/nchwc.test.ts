import { describe, expect, it } from 'vitest';
import { runSession } from '../../src/engine/index.js';
import { nodeRuntime as engineNodeRuntime } from '../../src/engine/node.js';
import { conv, input, reshape, toOnnx } from '../../src/graph/index.js';
import { blockWeights, nchwcEligible } from '../../src/graph/nchwc.js';
import { mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime } from '../helpers/runtimes.js';

const block = await engineNodeRuntime(2).nchwcBlock!();
const random = (n: number, seed: number) => {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
};

describe('convs on the blocked CPU kernels', () => {
  it('takes 2D ungrouped convs whose channels are whole blocks, and nothing else', () => {
    const x = (c: number, spatial = 2) => input('x', [2, c, ...new Array(spatial).fill(8)]);
    const w = (o: number, i: number, spatial = 2) => input('w', [o, i, ...new Array(spatial).fill(3)]);
    expect(nchwcEligible(conv(x(16), w(32, 16)), 16)).toBe(true);
    expect(nchwcEligible(conv(x(16), w(8, 16)), 16)).toBe(false);
    expect(nchwcEligible(conv(x(1), w(16, 1)), 16)).toBe(false);
    expect(nchwcEligible(conv(x(32), w(32, 16), undefined, { group: 2 }), 16)).toBe(false);
    expect(nchwcEligible(conv(x(16, 3), w(16, 16, 3)), 16)).toBe(false);
    expect(nchwcEligible(conv(x(8), w(8, 8)), 8)).toBe(true);
  });

  it('orders weights OIHWBiBo: blocks of outputs, blocks of inputs, taps, then inputs and outputs in a block', async () => {
    const [o, i, k, b] = [4, 4, 2, 2];
    const w = input('w', [o, i, k, k]);
    const values = Float32Array.from({ length: o * i * k * k }, (_, n) => n);
    const graph = toOnnx({
      name: 't',
      inputs: [w],
      outputs: { y: reshape(blockWeights(w, b), [o * i * k * k]) },
    });
    const session = await nodeRuntime.ort.InferenceSession.create(graph);
    const { y } = await runSession(nodeRuntime, session, { w: { data: values, dims: [o, i, k, k] } });
    const expected: number[] = [];
    for (let ob = 0; ob < o / b; ob++)
      for (let ib = 0; ib < i / b; ib++)
        for (let h = 0; h < k; h++)
          for (let x = 0; x < k; x++)
            for (let bi = 0; bi < b; bi++)
              for (let bo = 0; bo < b; bo++) {
                const [oc, ic] = [ob * b + bo, ib * b + bi];
                expected.push(((oc * i + ic) * k + h) * k + x);
              }
    expect(Array.from(y.data)).toEqual(expected);
  });

  it.skipIf(!block)('computes what the plain conv computes (with bias, padding, strides)', async () => {
    const c = block!;
    const x = input('x', [2, c, 9, 7]);
    const w = input('w', [2 * c, c, 3, 3]);
    const bias = input('b', [2 * c]);
    const options = [{ pads: [1, 1, 1, 1] }, { pads: [0, 1, 2, 1], strides: [2, 1] }];
    for (const option of options) {
      const y = conv(x, w, bias, option);
      const feeds = {
        x: { data: random(x.size, 1), dims: x.shape },
        w: { data: random(w.size, 2), dims: w.shape },
        b: { data: random(bias.size, 3), dims: bias.shape },
      };
      const outputs: Float32Array[] = [];
      for (const nchwcBlock of [undefined, c]) {
        const graph = toOnnx({ name: 't', inputs: [x, w, bias], outputs: { y }, nchwcBlock });
        expect(Buffer.from(graph).includes('com.microsoft.nchwc')).toBe(nchwcBlock !== undefined);
        const session = await nodeRuntime.ort.InferenceSession.create(graph, nodeRuntime.sessionOptions);
        outputs.push((await runSession(nodeRuntime, session, feeds)).y.data);
      }
      const scale = Math.max(...outputs[0].map(Math.abs));
      const diff = Math.max(...outputs[0].map((v, n) => Math.abs(v - outputs[1][n])));
      expect(diff / scale).toBeLessThan(1e-5);
    }
  });
});
