/**
 * A BioImage Model Zoo package of the model trained in the worker, tested before it is handed out — what
 * `careamics export` does, with the training image's centre as the test input.
 * The crop and the normalized whole-image predict mirror src/cli/export.ts; both belong in src/bmz when it
 * grows a CAREamist-level export.
 */
import { exportToBmz, importBmz, minimumSize, type Tensor, testBmz } from '../../src/bmz/index.js';
import type { CAREamist, ImageSource, Runtime, UNetArchitecture } from '../../src/index.js';
import { toPredictionNormalization } from '../../src/index.js';

export interface BmzDetails {
  name: string;
  authors: string[];
  description: string;
}

const EPS = 1e-6;
const CROP = { YX: 256, Z: 32 };

/** A centred crop the package can test with: spatial sizes in multiples of 2**depth, every channel, one plane of S/T. */
async function testImage(source: ImageSource, a: UNetArchitecture) {
  const step = 2 ** a.depth;
  const min = minimumSize(a);
  const start: number[] = [];
  const stop: number[] = [];
  const shape: number[] = [];
  let axes = '';
  [...source.axes].forEach((letter, i) => {
    const size = source.shape[i]!;
    const spatial = letter === 'Y' || letter === 'X' || (letter === 'Z' && a.conv_dims === 3);
    const crop = Math.max(min, letter === 'Z' ? CROP.Z : CROP.YX);
    const length = spatial ? Math.min(Math.floor(size / step) * step, crop) : letter === 'C' ? size : 1;
    start.push(Math.floor((size - length) / 2));
    stop.push(start[i]! + length);
    if (spatial || letter === 'C') {
      shape.push(length);
      axes += letter;
    }
  });
  const region = await source.read({ start, stop });
  return { data: Float32Array.from(region.data), shape, axes };
}

/** `(x − mean) / (std + eps)` or its inverse per channel of a (B, C, …) tensor, in place. */
function affine(
  data: Float32Array,
  shape: readonly number[],
  mean: number[],
  std: number[],
  inverse: boolean,
) {
  const channels = shape[1]!;
  const plane = shape.slice(2).reduce((a, b) => a * b, 1);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / plane) % channels;
    const m = mean[mean.length === 1 ? 0 : c]!;
    const s = std[std.length === 1 ? 0 : c]! + EPS;
    data[i] = inverse ? data[i]! * s + m : (data[i]! - m) / s;
  }
}

export async function exportBmz(
  careamist: CAREamist,
  source: ImageSource,
  runtime: Runtime,
  details: BmzDetails,
): Promise<Uint8Array> {
  const model = careamist.engineModel!;
  const n = toPredictionNormalization(careamist.statistics!);
  const losses = careamist.getLosses();
  const vals = losses.val_epoch.filter((v): v is number => v !== null);
  const predict = async (t: Tensor): Promise<Tensor> => {
    const x = Float32Array.from(t.data);
    affine(x, t.shape, n.mean, n.std, false);
    const y = await model.predict(x, [...t.shape]);
    affine(y.data, y.shape, n.mean, n.std, true);
    return y;
  };
  const zip = await exportToBmz({
    onnx: careamist.exportOnnx(),
    config: careamist.config,
    architecture: model.architecture,
    normalization: { means: n.mean, stds: n.std },
    name: details.name,
    authors: details.authors.map((name) => ({ name })),
    description: details.description,
    dataDescription: `${source.name}, shape [${source.shape.join(', ')}], axes ${source.axes}`,
    inputArray: await testImage(source, model.architecture),
    predict,
    trainingSummary: {
      epochs: losses.train_epoch.length,
      ...(losses.train_epoch.length > 0 && { final_train_loss: losses.train_epoch.at(-1)! }),
      ...(vals.length > 0 && { best_val_loss: Math.min(...vals) }),
    },
  });
  const test = await testBmz(await importBmz(zip, `${details.name}.zip`), runtime);
  if (!test.passed) {
    throw new Error(
      `the BioImage Model Zoo package fails its own test (max |Δ| ${test.maxAbsDiff.toExponential(2)}, ${test.mismatched} values off)`,
    );
  }
  return zip;
}
