export { initialBuffers, initialParameters } from './init.js';
export type { BufferSpec, ConvSpec, LayerBuilder, ParameterSpec } from './layers.js';
export {
  BATCH_NORM_EPS,
  BATCH_NORM_MOMENTUM,
  EvaluationLayers,
  FlatLayout,
  FoldedLayers,
  ParameterCollector,
  TrainingLayers,
} from './layers.js';
export type { LossName } from './losses.js';
export { isMaskedLoss, lossFor, mae, maskedMse, mse } from './losses.js';
export type { OptimizerName, OptimizerParameters, OptimizerSpec } from './optimizers.js';
export { optimizerSlots, optimizerUpdate } from './optimizers.js';
export type { DataAffine, LogLikelihoodGraph, Pn2vNoise, Pn2vOutput } from './pn2v.js';
export { PN2V_OUTPUTS, pn2vEstimate, pn2vLoss, pn2vMaskedLoss } from './pn2v.js';
export {
  buildUNet,
  DEFAULT_UNET,
  ModelError,
  receptiveRadius,
  sizeMultiple,
  unetHalo,
  validateArchitecture,
} from './unet.js';
