/**
 * 2D convolutions on ONNX Runtime's blocked CPU kernels. Its CPU provider convolves data laid out in blocks of
 * channels (NCHWc: 8 channels on AVX2, 16 on AVX-512) directly, without the im2col copy its plain Conv makes,
 * but its optimizer reorders only constant weights, which a training graph's are not. `toOnnx({nchwcBlock})`
 * therefore writes each eligible Conv as: the input reordered to the blocked layout, the weights reordered in the
 * graph (OIHW → OIHWBiBo: one Reshape and one Transpose of a small tensor), the blocked Conv, and the output
 * reordered back. Measured on 16×32…128×64² batches: 10–23 % faster per conv, reorders included
 * (docs/benchmarks.md). Only for ONNX Runtime's CPU provider: the ops exist nowhere else.
 */
import { apply, reshape, transpose } from './ops.js';
import { convGeometry } from './shapes.js';
import type { Tensor } from './tensor.js';

/** Whether a Conv node runs on the blocked kernels: 2D, ungrouped, channel counts whole blocks. */
export function nchwcEligible(node: Tensor, block: number): boolean {
  if (node.op !== 'Conv') return false;
  const [x, w] = node.inputs;
  const { spatial, group } = convGeometry(node.attrs);
  return spatial === 2 && group === 1 && x.shape[1] % block === 0 && w.shape[0] % block === 0;
}

/** Reorders of one tensor are shared by every conv that reads it. */
const reordered = new WeakMap<Tensor, Map<number, Tensor>>();

function reorderInput(x: Tensor, block: number): Tensor {
  const byBlock = reordered.get(x) ?? new Map<number, Tensor>();
  reordered.set(x, byBlock);
  const blocked = byBlock.get(block) ?? apply('NchwcReorderInput', [x]);
  byBlock.set(block, blocked);
  return blocked;
}

/**
 * (O, I, kh, kw) weights in the blocked kernels' order, OIHWBiBo: for each block of outputs and of inputs, the
 * kernel taps, then the block's inputs, then its outputs. The shape stays (O, I, kh, kw).
 */
export function blockWeights(w: Tensor, block: number): Tensor {
  const [o, i, kh, kw] = w.shape;
  const split = reshape(w, [o / block, block, i / block, block, kh, kw]);
  return reshape(transpose(split, [0, 2, 4, 5, 3, 1]), [o, i, kh, kw]);
}

/** An eligible Conv node as blocked kernels (see the module comment); its value is the node's. */
export function lowerToNchwc(node: Tensor, block: number): Tensor {
  const [x, w, bias] = node.inputs;
  const inputs = [reorderInput(x, block), blockWeights(w, block), ...(bias ? [bias] : [])];
  const blocked = apply('NchwcConv', inputs, node.attrs);
  return apply('NchwcReorderOutput', [blocked], { channels: node.shape[1] });
}
