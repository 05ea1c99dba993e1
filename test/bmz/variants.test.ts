import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exportToBmz, importBmz, testBmz } from '../../src/bmz/index.js';
import { createN2VConfig } from '../../src/config/index.js';
import { createModel } from '../../src/engine/index.js';
import { decodePngImage } from '../../src/io/png.js';
import { mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime } from '../helpers/runtimes.js';
import { schemaValidator } from './schema.js';

describe('a 3D two-channel N2V2 package', () => {
  it('is valid, cites N2V2, has an RGB cover and passes its own test after import', async () => {
    const architecture = {
      conv_dims: 3 as const,
      depth: 1,
      in_channels: 2,
      num_classes: 2,
      num_channels_init: 8,
      n2v2: true,
    };
    const model = await createModel(nodeRuntime, { architecture, seed: 4 });
    const config = createN2VConfig({
      experimentName: 'n2v2 3d',
      dataType: 'array',
      axes: 'CZYX',
      nChannels: 2,
      useN2V2: true,
      patchSize: [8, 32, 32],
      batchSize: 8,
      modelParams: { depth: 1, num_channels_init: 8 },
      seed: 1,
    });
    const means = [50, 500];
    const stds = [5, 80];
    const rand = mulberry32(2);
    const size = 24;
    const plane = size * size * size;
    const data = Float32Array.from(
      { length: 2 * plane },
      (_, i) => means[Math.floor(i / plane)] + stds[Math.floor(i / plane)] * (rand() - 0.5),
    );
    const zip = await exportToBmz({
      onnx: model.exportOnnx(),
      config,
      architecture: model.architecture,
      normalization: { means, stds },
      name: 'N2V2 3D two channels',
      authors: [{ name: 'Test Author' }],
      description: 'Tiny 3D N2V2 model for tests.',
      inputArray: { data, shape: [2, size, size, size], axes: 'CZYX' },
      channelNames: { input: ['dapi', 'gfp'], output: ['dapi', 'gfp'] },
      predict: async (t) => {
        const x = Float32Array.from(
          t.data,
          (v, i) => (v - means[Math.floor(i / plane)]) / (stds[Math.floor(i / plane)] + 1e-6),
        );
        const y = await model.predict(x, t.shape);
        const out = Float32Array.from(
          y.data,
          (v, i) => v * (stds[Math.floor(i / plane)] + 1e-6) + means[Math.floor(i / plane)],
        );
        return { data: out, shape: y.shape };
      },
    });
    const files = unzipSync(zip);
    const rdf = parse(strFromU8(files['rdf.yaml']));
    const validate = schemaValidator();
    expect(validate(rdf), JSON.stringify(validate.errors)).toBe(true);
    expect(rdf.inputs[0].axes.map((a: { id?: string; type: string }) => a.id ?? a.type)).toEqual([
      'batch',
      'channel',
      'z',
      'y',
      'x',
    ]);
    expect(rdf.cite.map((c: { doi?: string }) => c.doi)).toContain('10.1007/978-3-031-25069-9_33');
    expect(rdf.tags).toContain('N2V2');
    expect(decodePngImage(files['cover.png']).array.shape).toEqual([3, size, 2 * size]);

    const imported = await importBmz(zip);
    expect(imported.facts).toMatchObject({
      is3D: true,
      axes: 'ZYX',
      depth: 1,
      inChannels: 2,
      outChannels: 2,
      halo: [11, 11, 11],
    });
    expect(imported.normalization?.means).toEqual(means);
    expect(imported.testInput?.shape).toEqual([1, 2, size, size, size]);
    expect((await testBmz(imported, nodeRuntime)).passed).toBe(true);
    await model.dispose();
  });
});
