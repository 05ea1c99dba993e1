/**
 * A package whose preprocessing is bioimage.io's per-sample `zero_mean_unit_variance` (statistics of the whole
 * sample, as bioimageio.core computes them before blockwise prediction): a tiny UNet exported by careamics-js with
 * that step instead of its fixed statistics. Small tiles must give the untiled prediction, and both the model
 * run on the whole image standardized once.
 */
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Model } from '../../src/engine/index.js';
import { FrozenModel, type LoadedModel, loadModel } from '../../src/index.js';
import { mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime } from '../helpers/runtimes.js';
import { exportTiny, tinyModel } from './fixtures.js';

const [H, W] = [160, 128];

/** A ramp (so each tile has another mean) with structure and noise, far from the export's statistics. */
function image(seed: number, scale: number, offset: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: H * W }, (_, i) => {
    const y = Math.floor(i / W);
    const x = i % W;
    return offset + scale * (2 * x + y + 30 * Math.sin(x / 6) * Math.cos(y / 9) + 10 * rand());
  });
}

/** The whole sample standardized once, float64 statistics, bioimage.io's eps. */
function standardized(x: Float32Array): Float32Array {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const std = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length);
  return Float32Array.from(x, (v) => (v - mean) / (std + 1e-6));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('BMZ zero_mean_unit_variance: statistics of the whole sample, whatever the tiling', () => {
  let model: Model;
  let loaded: LoadedModel;
  beforeAll(async () => {
    model = await tinyModel();
    const files = unzipSync(await exportTiny(model));
    const rdf = parse(new TextDecoder().decode(files['rdf.yaml']));
    rdf.inputs[0].preprocessing = [
      { id: 'ensure_dtype', kwargs: { dtype: 'float32' } },
      { id: 'zero_mean_unit_variance', kwargs: { axes: ['channel', 'y', 'x'] } },
    ];
    rdf.outputs[0].postprocessing = [];
    files['rdf.yaml'] = strToU8(stringify(rdf));
    loaded = await loadModel(zipSync(files), 'zmuv.zip', { runtime: nodeRuntime });
  });
  afterAll(async () => {
    await loaded.dispose();
    await model.dispose();
  });

  it('small tiles give the untiled prediction, which is the model on the whole image standardized', async () => {
    expect(loaded).toBeInstanceOf(FrozenModel);
    const data = image(1, 3, 400);
    const untiled = await loaded.predict({ data, shape: [H, W], axes: 'YX' }, { tileSize: [H, W] });
    const tiled = await loaded.predict(
      { data, shape: [H, W], axes: 'YX' },
      { tileSize: [64, 64], tileOverlap: [40, 40], batchSize: 2 },
    );
    const reference = await model.predict(standardized(data), [1, 1, H, W]);
    // Per-tile statistics put this at 1.0e-2 (before the fix; a tiny untrained UNet's outputs are small).
    expect(maxAbsDiff(tiled.data, untiled.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(untiled.data, reference.data)).toBeLessThan(1e-5);
  });

  it('two samples with different statistics: each standardized with its own', async () => {
    const samples = [image(2, 1, 0), image(3, 5, 1000)];
    const data = new Float32Array(2 * H * W);
    samples.forEach((s, k) => {
      data.set(s, k * H * W);
    });
    const tiled = await loaded.predict(
      { data, shape: [2, H, W], axes: 'SYX' },
      { tileSize: [64, 64], tileOverlap: [40, 40], batchSize: 3 },
    );
    for (const [k, s] of samples.entries()) {
      const reference = await model.predict(standardized(s), [1, 1, H, W]);
      expect(maxAbsDiff(tiled.data.subarray(k * H * W, (k + 1) * H * W), reference.data)).toBeLessThan(1e-5);
    }
  });
});
