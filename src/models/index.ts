export { DEFAULT_UNET, ModelError, buildUNet, sizeMultiple, validateArchitecture } from './unet.js';
export type { UNetArchitecture } from './unet.js';
export {
  BATCH_NORM_EPS,
  BATCH_NORM_MOMENTUM,
  EvaluationLayers,
  FlatLayout,
  FoldedLayers,
  ParameterCollector,
  TrainingLayers,
} from './layers.js';
export type { BufferSpec, ConvSpec, LayerBuilder, ParameterSpec } from './layers.js';
export { lossFor, mae, maskedMse, mse } from './losses.js';
export type { LossName } from './losses.js';
export { optimizerSlots, optimizerUpdate } from './optimizers.js';
export type { OptimizerName, OptimizerParameters, OptimizerSpec } from './optimizers.js';
export { initialBuffers, initialParameters, seededUniform } from './init.js';
