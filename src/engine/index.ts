export { DEVICES, noAdapterError, onDevice, probeRuntime } from './device.js';
export type { ModelDescription, Pn2vSpec, TrainingGraphOptions } from './graphs.js';
export { buildEvaluationGraph, buildPredictionGraph, buildTrainingGraph, describeModel } from './graphs.js';
export type { Batch, ModelOptions, ModelState } from './model.js';
export { createModel, Model } from './model.js';
export type { Device, DeviceInfo, OrtModule, Runtime } from './runtime.js';
export { createSession, defaultSessionOptions, EngineError, runSession } from './runtime.js';
export type { NamedTensor } from './safetensors.js';
export { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';
