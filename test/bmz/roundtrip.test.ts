import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createBmzPredictor, importBmz, testBmz } from '../../src/bmz/index.js';
import type { Model } from '../../src/engine/index.js';
import { decodeNpy } from '../../src/io/npy.js';
import { decodePngImage } from '../../src/io/png.js';
import { predict } from '../../src/prediction/index.js';
import { mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime, webRuntime } from '../helpers/runtimes.js';
import { exportTiny, MEAN, noisyImage, normalizedPredict, SIZE, STD, tinyModel } from './fixtures.js';

describe('BMZ export → import round trip', () => {
  let model: Model;
  let zip: Uint8Array;
  beforeAll(async () => {
    model = await tinyModel();
    // A few steps so the weights and batch-norm statistics are not the initial ones.
    const rand = mulberry32(7);
    const input = Float32Array.from({ length: 4 * 64 * 64 }, () => rand() * 2 - 1);
    for (let s = 0; s < 3; s++)
      await model.trainStep({
        input,
        target: input,
        mask: input.map(() => (rand() < 0.01 ? 1 : 0)),
        shape: [4, 1, 64, 64],
      });
    zip = await exportTiny(model);
  });
  afterAll(() => model.dispose());

  it('packages every file, with outputs.npy the model prediction of inputs.npy', async () => {
    const files = unzipSync(zip);
    expect(Object.keys(files).sort()).toEqual([
      'README.md',
      'careamics.yaml',
      'cover.png',
      'inputs.npy',
      'outputs.npy',
      'rdf.yaml',
      'weights.onnx',
    ]);
    const inputs = decodeNpy(files['inputs.npy']);
    const outputs = decodeNpy(files['outputs.npy']);
    expect(inputs.shape).toEqual([1, 1, SIZE, SIZE]);
    expect(outputs.shape).toEqual([1, 1, SIZE, SIZE]);
    expect(inputs.data).toEqual(noisyImage());
    const expected = await normalizedPredict(model)({ data: noisyImage(), shape: [1, 1, SIZE, SIZE] });
    expect(outputs.data).toEqual(expected.data);
    const cover = decodePngImage(files['cover.png']);
    expect(cover.array.shape).toEqual([SIZE, 2 * SIZE]);
    const readme = strFromU8(files['README.md']);
    expect(readme).toMatch(/# Validation/);
    expect(readme).toContain('10.1109/cvpr.2019.00223');
  });

  it('imports with verified hashes, the statistics, the configuration and the tiling facts', async () => {
    const imported = await importBmz(zip, 'tiny.zip');
    expect(imported.normalization?.means).toEqual([MEAN]);
    expect(imported.normalization?.stds).toEqual([STD]);
    expect(imported.normalization?.targetMeans).toEqual([MEAN]);
    expect(imported.normalization?.targetStds?.[0]).toBeCloseTo(STD, 9);
    expect(imported.config?.data_config.normalization).toMatchObject({
      input_means: [MEAN],
      input_stds: [STD],
    });
    expect(imported.architecture?.depth).toBe(2);
    expect(imported.facts).toEqual({
      depth: 2,
      inChannels: 1,
      outChannels: 1,
      is3D: false,
      axes: 'YX',
      minSize: [56, 56],
      step: [4, 4],
      halo: [26, 26],
    });
    expect(imported.warnings).toEqual([]);
  });

  it('reproduces outputs.npy from inputs.npy within the rdf tolerance', async () => {
    const result = await testBmz(await importBmz(zip), nodeRuntime);
    expect(result.passed).toBe(true);
    expect(result.maxAbsDiff).toBeLessThan(1e-3);
    expect(result.tolerance).toEqual({ relative: 1e-3, absolute: 1e-3, mismatchedPerMillion: 100 });
  });

  it('passes the same test on onnxruntime-web (wasm), the browser runtime', async () => {
    const result = await testBmz(await importBmz(zip), await webRuntime());
    expect(result.passed).toBe(true);
    expect(result.maxAbsDiff).toBeLessThan(1e-3);
  });

  it('predicts as the Model does (normalization included), for a batch of another size', async () => {
    const predictor = await createBmzPredictor(await importBmz(zip), nodeRuntime);
    const rand = mulberry32(11);
    const shape = [2, 1, 60, 72];
    const data = Float32Array.from({ length: 2 * 60 * 72 }, () => MEAN + STD * (rand() * 2 - 1));
    const ours = await predictor.predict(data, shape);
    const direct = await normalizedPredict(model)({ data, shape });
    expect(ours.shape).toEqual(shape);
    let max = 0;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(ours.data[i] - direct.data[i]));
    expect(max).toBeLessThan(1e-3);
    await expect(predictor.predict(data.subarray(0, 2 * 58 * 72), [2, 1, 58, 72])).rejects.toThrow(
      /56 \+ n·4/,
    );
    await predictor.dispose();
  });

  it('tiles with src/prediction: the halo is wide enough for tiled and whole-image results to agree', async () => {
    const predictor = await createBmzPredictor(await importBmz(zip), nodeRuntime);
    expect(predictor.tiling).toEqual({
      depth: 2,
      inChannels: 1,
      outChannels: 1,
      is3D: false,
      receptiveFieldHalo: 26,
    });
    const rand = mulberry32(5);
    const data = Float32Array.from({ length: 128 * 128 }, () => MEAN + STD * (rand() * 2 - 1));
    const whole = await predictor.predict(data, [1, 1, 128, 128]);
    // Default overlap 2·halo = 52 and tile 64: tiles start on multiples of 4 = 2**depth, so pooling grids line
    // up, and every kept pixel sees exactly the inputs it sees in the whole image. (An overlap of 44 already
    // differs: the halo is the true receptive-field radius.)
    const tiled = await predict({ data, shape: [128, 128], axes: 'YX' }, predictor.predict, {
      model: predictor.tiling,
      tileSize: [64, 64],
    });
    let max = 0;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(tiled.data[i] - whole.data[i]));
    expect(max).toBe(0);
    await predictor.dispose();
  });

  it("reads CAREamics' inverse normalization (fixed_zero_mean_unit_variance postprocessing) and tensor ids", async () => {
    const files = unzipSync(zip);
    const rdf = parse(strFromU8(files['rdf.yaml']));
    const eps = 1e-6;
    rdf.outputs[0].id = 'prediction';
    rdf.outputs[0].axes = rdf.outputs[0].axes.map(({ halo: _, ...axis }: Record<string, unknown>) => axis);
    rdf.outputs[0].postprocessing = [
      {
        id: 'fixed_zero_mean_unit_variance',
        kwargs: { axis: 'channel', mean: [-MEAN / (STD + eps)], std: [1 / (STD + eps) - eps] },
      },
    ];
    delete rdf.config;
    const careamicsStyle = zipSync({ ...files, 'rdf.yaml': strToU8(stringify(rdf)) });
    const imported = await importBmz(careamicsStyle);
    expect(imported.normalization?.targetMeans?.[0]).toBeCloseTo(MEAN, 6);
    expect(imported.normalization?.targetStds?.[0]).toBeCloseTo(STD, 6);
    expect(imported.facts.halo).toEqual([0, 0]);
    const result = await testBmz(imported, nodeRuntime);
    expect(result.passed).toBe(true);
  });
});
