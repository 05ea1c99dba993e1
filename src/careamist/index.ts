/** The facade, browser-safe: `CAREamist` (train, predict, export) and `loadModel` for any model file's bytes. */
export type { BmzExportDetails } from './bmz.js';
export type { CAREamistOptions, TrainOptions } from './careamist.js';
export { CAREamist, checkpointConfiguration, toPredictionNormalization } from './careamist.js';
export { FrozenModel, type OnnxFacts, onnxFacts } from './frozen.js';
export { type LoadedModel, type LoadModelOptions, loadModel, modelFileKind } from './load.js';
export { CAREamistError, type ModelKind, type PredictionSettings, TiledModel } from './tiled.js';
