import { type ExportBmzOptions, exportToBmz, type Tensor } from '../../src/bmz/index.js';
import { createN2VConfig } from '../../src/config/index.js';
import { createModel, type Model } from '../../src/engine/index.js';
import { mulberry32 } from '../helpers/gradcheck.js';
import { nodeRuntime } from '../helpers/runtimes.js';

export const SIZE = 64;
export const MEAN = 120;
export const STD = 15;

/** A noisy 64×64 image with structure: a smooth blob plus Gaussian-ish noise around MEAN. */
export function noisyImage(seed = 3): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: SIZE * SIZE }, (_, i) => {
    const y = Math.floor(i / SIZE);
    const x = i % SIZE;
    const blob = 40 * Math.exp(-((x - 30) ** 2 + (y - 34) ** 2) / 200);
    return MEAN - 10 + blob + STD * (rand() + rand() + rand() - 1.5);
  });
}

/** The model's prediction with CAREamics' normalization: (x − μ)/(σ + 1e-6) in, y·(σ + 1e-6) + μ out. */
export function normalizedPredict(model: Model): (t: Tensor) => Promise<Tensor> {
  return async (t) => {
    const x = Float32Array.from(t.data, (v) => (v - MEAN) / (STD + 1e-6));
    const y = await model.predict(x, t.shape);
    return { data: Float32Array.from(y.data, (v) => v * (STD + 1e-6) + MEAN), shape: y.shape };
  };
}

export async function tinyModel(): Promise<Model> {
  return createModel(nodeRuntime, { architecture: { depth: 2, num_channels_init: 8 }, seed: 1 });
}

export function n2vConfig() {
  return createN2VConfig({
    experimentName: 'bmz test',
    dataType: 'array',
    axes: 'YX',
    patchSize: [64, 64],
    batchSize: 8,
    modelParams: { depth: 2, num_channels_init: 8 },
    seed: 42,
  });
}

export function exportOptions(model: Model, overrides: Partial<ExportBmzOptions> = {}): ExportBmzOptions {
  return {
    onnx: model.exportOnnx(),
    config: n2vConfig(),
    architecture: model.architecture,
    normalization: { means: [MEAN], stds: [STD] },
    name: 'N2V tiny test model',
    authors: [{ name: 'Test Author', affiliation: 'careamics-js' }],
    description: 'A tiny untrained Noise2Void UNet for tests.',
    dataDescription: 'Synthetic 64x64 noisy blobs.',
    inputArray: { data: noisyImage(), shape: [SIZE, SIZE], axes: 'YX' },
    predict: normalizedPredict(model),
    trainingSummary: { epochs: 0, note: 'untrained' },
    timestamp: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  };
}

export async function exportTiny(
  model: Model,
  overrides: Partial<ExportBmzOptions> = {},
): Promise<Uint8Array> {
  return exportToBmz(exportOptions(model, overrides));
}
