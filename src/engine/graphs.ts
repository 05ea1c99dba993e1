/**
 * The three graphs compiled per model: the training step (forward, loss, gradients and optimizer update in
 * one graph), the evaluation loss (batch norm from running statistics) and the prediction graph (weights as
 * initializers, batch norm folded, any batch and spatial size).
 */
import type { UNetConfig } from '../config/index.js';
import { concat, constant, grad, input, reshape, type Tensor, toOnnx } from '../graph/index.js';
import {
  buildUNet,
  type DataAffine,
  EvaluationLayers,
  FlatLayout,
  FoldedLayers,
  isMaskedLoss,
  type LossName,
  lossFor,
  ModelError,
  type OptimizerSpec,
  optimizerSlots,
  optimizerUpdate,
  ParameterCollector,
  type Pn2vNoise,
  type Pn2vOutput,
  pn2vEstimate,
  pn2vLoss,
  pn2vMaskedLoss,
  sizeMultiple,
  TrainingLayers,
} from '../models/index.js';
import type { BufferSpec, ParameterSpec } from '../models/layers.js';

export interface ModelDescription {
  architecture: UNetConfig;
  parameters: ParameterSpec[];
  buffers: BufferSpec[];
  parameterLayout: FlatLayout;
  bufferLayout: FlatLayout;
}

/** Lists parameters and buffers by a dry run of the UNet on a small symbolic input. */
export function describeModel(architecture: UNetConfig): ModelDescription {
  const collector = new ParameterCollector();
  const side = sizeMultiple(architecture) * 2;
  const shape = [1, architecture.in_channels, ...new Array(architecture.conv_dims).fill(side)];
  buildUNet(architecture, input('input', shape), collector);
  return {
    architecture,
    parameters: collector.parameters,
    buffers: collector.buffers,
    parameterLayout: new FlatLayout(collector.parameters),
    bufferLayout: new FlatLayout(collector.buffers),
  };
}

/** What the pn2v loss and posterior need besides the network: the noise, and the data's affine to raw units. */
export interface Pn2vSpec {
  noise: Pn2vNoise;
  affine: DataAffine;
}

export interface TrainingGraphOptions {
  /** Input batch shape (B, C, [Z,] Y, X). */
  inputShape: readonly number[];
  loss: LossName;
  optimizer: OptimizerSpec;
  /** Also output the flat gradient as `grads` (for checks against a reference). */
  exposeGradients?: boolean;
  /** Required by the pn2v loss. */
  pn2v?: Pn2vSpec;
  /**
   * pn2v: evaluate the loss only at the masked pixels, given as an int64 input `masked_index` (B, C, this many)
   * of flat spatial indices (see `pn2vMaskedLoss`, `maskedIndices`). Without it, at every pixel, mask-weighted.
   */
  maskedPerPatch?: number;
  /** Convs on ONNX Runtime's blocked CPU kernels with this channel block (`Runtime.nchwcBlock`). */
  nchwcBlock?: number;
}

/** Targets and masks: num_classes channels, except pn2v's (the observed input, one per input channel). */
export const targetChannels = (a: UNetConfig, loss: LossName) =>
  loss === 'pn2v' ? a.in_channels : a.num_classes;

const targetShape = (d: ModelDescription, inputShape: readonly number[], loss: LossName) => [
  inputShape[0],
  targetChannels(d.architecture, loss),
  ...inputShape.slice(2),
];

function graphInputs(d: ModelDescription, inputShape: readonly number[], loss: LossName) {
  const tShape = targetShape(d, inputShape, loss);
  const inputs = {
    input: input('input', inputShape),
    target: input('target', tShape),
    mask: isMaskedLoss(loss) ? input('mask', tShape) : undefined,
    params: input('params', [d.parameterLayout.size]),
    buffers: d.bufferLayout.size > 0 ? input('buffers', [d.bufferLayout.size]) : undefined,
  };
  return inputs;
}

const defined = (ts: (Tensor | undefined)[]) => ts.filter((t): t is Tensor => t !== undefined);

function lossGraph(
  name: LossName,
  prediction: Tensor,
  target: Tensor,
  mask: Tensor | undefined,
  pn2v: Pn2vSpec | undefined,
  maskedIndex?: Tensor,
): Tensor {
  if (name !== 'pn2v') return lossFor(name, prediction, target, mask);
  if (!pn2v || !mask)
    throw new ModelError('the pn2v loss needs a noise model, the data affine and a mask', 'loss');
  return maskedIndex
    ? pn2vMaskedLoss(prediction, target, mask, maskedIndex, pn2v.noise, pn2v.affine)
    : pn2vLoss(prediction, target, mask, pn2v.noise, pn2v.affine);
}

export function buildTrainingGraph(d: ModelDescription, options: TrainingGraphOptions): Uint8Array {
  const { input: x, target, mask, params, buffers } = graphInputs(d, options.inputShape, options.loss);
  const bufferInput = buffers ?? input('buffers', [0]);
  const layers = new TrainingLayers(params, d.parameterLayout, bufferInput, d.bufferLayout);
  const prediction = buildUNet(d.architecture, x, layers);
  const maskedIndex =
    options.loss === 'pn2v' && options.maskedPerPatch !== undefined
      ? input(
          'masked_index',
          [...targetShape(d, options.inputShape, options.loss).slice(0, 2), options.maskedPerPatch],
          'int64',
        )
      : undefined;
  const loss = lossGraph(options.loss, prediction, target, mask, options.pn2v, maskedIndex);

  const differentiated = d.parameterLayout.entries.filter((e) => !layers.zeroGradient.has(e.name));
  const computed = grad(
    loss,
    differentiated.map((e) => layers.params.get(e.name)),
  );
  const byName = new Map(differentiated.map((e, i) => [e.name, computed[i]]));
  const grads = d.parameterLayout.entries.map(
    (e) => byName.get(e.name) ?? constant(new Float32Array(e.size), e.shape),
  );
  const flatGrad = concat(
    grads.map((g) => reshape(g, [g.size])),
    0,
  );
  const slotNames = optimizerSlots(options.optimizer.name);
  const slots = slotNames.map((name) => input(name, [d.parameterLayout.size]));
  const lr = input('lr', []);
  const step = input('step', []);
  const update = optimizerUpdate(options.optimizer, params, flatGrad, slots, lr, step);

  const outputs: Record<string, Tensor> = { loss, params_out: update.params };
  if (options.exposeGradients) outputs.grads = flatGrad;
  slotNames.forEach((name, i) => {
    outputs[`${name}_out`] = update.slots[i];
  });
  if (buffers) {
    outputs.buffers_out = concat(
      d.bufferLayout.entries.map((e) => layers.updatedBuffers.get(e.name)!),
      0,
    );
  }
  return toOnnx({
    name: 'careamics_train_step',
    inputs: defined([x, target, mask, maskedIndex, params, buffers, ...slots, lr, step]),
    outputs,
    nchwcBlock: options.nchwcBlock,
  });
}

export function buildEvaluationGraph(
  d: ModelDescription,
  inputShape: readonly number[],
  lossName: LossName,
  pn2v?: Pn2vSpec,
  nchwcBlock?: number,
): Uint8Array {
  const { input: x, target, mask, params, buffers } = graphInputs(d, inputShape, lossName);
  const layers = new EvaluationLayers(
    params,
    d.parameterLayout,
    buffers ?? input('buffers', [0]),
    d.bufferLayout,
  );
  const prediction = buildUNet(d.architecture, x, layers);
  const loss = lossGraph(lossName, prediction, target, mask, pn2v);
  return toOnnx({
    name: 'careamics_eval_loss',
    inputs: defined([x, target, mask, params, buffers]),
    outputs: { loss, prediction },
    nchwcBlock,
  });
}

const SPATIAL_NAMES = ['z', 'y', 'x'];

/**
 * The prediction graph; its batch and spatial dimensions are free (multiples of 2**depth). With `pn2v`, the
 * output is the denoised image (posterior mean or prior mean, normalized units, one channel per input channel).
 */
export function buildPredictionGraph(
  d: ModelDescription,
  params: Float32Array,
  buffers: Float32Array,
  pn2v?: Pn2vSpec & { output: Pn2vOutput },
): Uint8Array {
  const a = d.architecture;
  const side = sizeMultiple(a) * 4;
  const x = input('input', [1, a.in_channels, ...new Array(a.conv_dims).fill(side)]);
  const layers = new FoldedLayers(params, d.parameterLayout, buffers, d.bufferLayout);
  const network = buildUNet(a, x, layers);
  const output = pn2v ? pn2vEstimate(network, x, pn2v.noise, pn2v.affine, pn2v.output) : network;
  const names = SPATIAL_NAMES.slice(3 - a.conv_dims);
  const dynamic: Record<number, string> = { 0: 'batch' };
  names.forEach((n, i) => {
    dynamic[i + 2] = n;
  });
  return toOnnx({
    name: 'careamics_predict',
    inputs: [x],
    outputs: { output },
    dynamicDims: { input: dynamic, output: dynamic },
  });
}
