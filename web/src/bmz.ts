/**
 * A BioImage Model Zoo package of the model trained in the worker, tested before it is handed out — what
 * `careamics export` does, with the training image's centre as the test input.
 */
import { centredTestCrop, exportToBmz, importBmz, normalizedPredict, testBmz } from '../../src/bmz/index.js';
import type { CAREamist, ImageSource, Runtime } from '../../src/index.js';
import { toPredictionNormalization } from '../../src/index.js';

export interface BmzDetails {
  name: string;
  authors: string[];
  description: string;
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
  const predict = normalizedPredict((x, shape) => model.predict(x, shape), n);
  const zip = await exportToBmz({
    onnx: careamist.exportOnnx(),
    config: careamist.config,
    architecture: model.architecture,
    normalization: { means: n.mean, stds: n.std },
    name: details.name,
    authors: details.authors.map((name) => ({ name })),
    description: details.description,
    dataDescription: `${source.name}, shape [${source.shape.join(', ')}], axes ${source.axes}`,
    inputArray: await centredTestCrop(source, model.architecture),
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
