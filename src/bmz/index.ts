/**
 * BioImage Model Zoo packages (format 0.5, ONNX weights), browser-safe; `loadModel` (src/careamist) opens them from disk.
 *
 * ```ts
 * const zip = await exportToBmz({ onnx: model.exportOnnx(), config, architecture: model.architecture,
 *   normalization: { means, stds }, name: 'N2V SEM denoising', authors: [{ name: 'Ada' }],
 *   description: 'Noise2Void on SEM', inputArray: { data, shape: [256, 256], axes: 'YX' }, predict });
 * const imported = await importBmz(zip);            // every sha256 verified
 * const { passed } = await testBmz(imported, runtime); // outputs.npy reproduced from inputs.npy
 * const predictor = await createBmzPredictor(imported, runtime);
 * const restored = await predictor.predict(image, [1, 1, 256, 256]);
 * ```
 */
export { BmzError, type BmzErrorTag, isBmzError } from './errors.js';
export { type ExportBmzOptions, exportToBmz } from './export.js';
export { type BmzModelFacts, type BmzTolerance, type ImportedBmz, importBmz } from './import.js';
export {
  type BmzPredictor,
  type BmzTestResult,
  compareToTestOutput,
  createBmzPredictor,
  testBmz,
} from './predictor.js';
export {
  type ProcessingStep,
  type SampleStandardization,
  SUPPORTED_PROCESSING,
  splitSampleStandardization,
} from './processing.js';
export {
  type BmzAuthor,
  type BmzNormalization,
  FORMAT_VERSION,
  minimumSize,
  receptiveRadius,
  unetHalo,
} from './rdf.js';
export type { TrainingSummary } from './readme.js';
export { canonicalAxisIds, type SpatialAxis, type TensorSpec } from './tensors.js';
export { centredTestCrop, normalizedPredict } from './testInput.js';
export type { Tensor } from './types.js';
