/** Training losses, as CAREamics computes them (`careamics/losses/`). */
import { abs, div, mul, reduceMean, reduceSum, sub, type Tensor } from '../graph/index.js';
import { ModelError } from './unet.js';

/** `pn2v` is built by `pn2vLoss` (it needs a noise model and the data's affine); see `pn2v.ts`. */
export type LossName = 'n2v' | 'pn2v' | 'mse' | 'mae';

/** Losses computed at N2V-masked pixels, with the unmasked input as the target. */
export const isMaskedLoss = (name: LossName) => name === 'n2v' || name === 'pn2v';

const allAxes = (t: Tensor) => t.shape.map((_, i) => i);

/** Mean squared error over the masked pixels only (`n2v_loss`): Σ mask·(ŷ−y)² / Σ mask. */
export function maskedMse(prediction: Tensor, target: Tensor, mask: Tensor): Tensor {
  const diff = sub(prediction, target);
  return div(
    reduceSum(mul(mask, mul(diff, diff)), allAxes(diff), false),
    reduceSum(mask, allAxes(mask), false),
  );
}

export function mse(prediction: Tensor, target: Tensor): Tensor {
  const diff = sub(prediction, target);
  return reduceMean(mul(diff, diff), allAxes(diff), false);
}

export function mae(prediction: Tensor, target: Tensor): Tensor {
  return reduceMean(abs(sub(prediction, target)), allAxes(prediction), false);
}

/** The loss graph for `name`; `mask` is required for (and only used by) `n2v`. */
export function lossFor(name: LossName, prediction: Tensor, target: Tensor, mask?: Tensor): Tensor {
  if (name === 'pn2v') throw new ModelError('the pn2v loss is built by pn2vLoss', 'loss');
  if (name === 'n2v') {
    if (!mask) throw new ModelError('the n2v loss needs a mask', 'loss');
    return maskedMse(prediction, target, mask);
  }
  return name === 'mse' ? mse(prediction, target) : mae(prediction, target);
}
