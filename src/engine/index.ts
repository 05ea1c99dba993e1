export { EngineError, Model, createModel } from './model.js';
export type { Batch, ModelOptions, ModelState } from './model.js';
export { buildEvaluationGraph, buildPredictionGraph, buildTrainingGraph, describeModel } from './graphs.js';
export type { ModelDescription, TrainingGraphOptions } from './graphs.js';
export { defaultSessionOptions, runSession } from './runtime.js';
export type { OrtModule, Runtime } from './runtime.js';
export { SafetensorsError, decodeSafetensors, encodeSafetensors } from './safetensors.js';
export type { NamedTensor } from './safetensors.js';
