/**
 * Symbolic tensors, the op table (shape rule and ONNX emission per op), its gradient rules, reverse-mode
 * gradients and ONNX export.
 *
 * @example
 * const x = input('x', [1, 1, 8, 8]);
 * const w = input('w', [4, 1, 3, 3]);
 * const loss = reduceSum(relu(conv(x, w, undefined, { pads: [1, 1, 1, 1] })), [0, 1, 2, 3], false);
 * const [dw] = grad(loss, [w]);
 * const bytes = toOnnx({ name: 'demo', inputs: [x, w], outputs: { loss, dw } });
 */

export { grad, topologicalOrder } from './grad.js';
export type { OnnxGraphSpec } from './onnx.js';
export { OPSET, toOnnx } from './onnx.js';
export type { ConvOptions, OpDef } from './ops.js';
export {
  abs,
  add,
  apply,
  batchNormAffine,
  concat,
  conv,
  convTranspose,
  div,
  equal,
  exp,
  expand,
  gatherElements,
  greater,
  identity,
  log,
  matmul,
  maximum,
  maxPool,
  mul,
  neg,
  OPS,
  pad,
  pow,
  reduceMax,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  scatterElementsAdd,
  sigmoid,
  sign,
  slice,
  sqrt,
  stopGradient,
  sub,
  toFloat,
  transpose,
  upsample,
  where,
} from './ops.js';
export type { ElementType } from './tensor.js';
export { constant, GraphError, input, Tensor } from './tensor.js';
export type { Vjp } from './vjps.js';
export { linearUpsampleMatrix, VJPS } from './vjps.js';
