/**
 * Optimizers as graph updates of the flat parameter vector, with PyTorch's update rules and defaults
 * (`torch.optim.Adam`, `AdamW`, `Adamax`, `SGD`). The learning rate and the step number are graph inputs, so a
 * scheduler changes them without recompiling.
 */
import { abs, add, div, maximum, mul, neg, pow, reduceSum, sqrt, sub, type Tensor } from '../graph/index.js';

export type OptimizerName = 'Adam' | 'AdamW' | 'Adamax' | 'SGD';

export interface OptimizerParameters {
  betas?: [number, number];
  eps?: number;
  weight_decay?: number;
  momentum?: number;
}

/** Lightning's `gradient_clip_val` / `gradient_clip_algorithm`, applied to the gradient before the update. */
export interface GradientClip {
  value: number;
  algorithm: 'norm' | 'value';
}

export interface OptimizerSpec {
  name: OptimizerName;
  parameters?: OptimizerParameters;
  gradientClip?: GradientClip;
}

/**
 * `torch.nn.utils.clip_grad_norm_` (scale by min(1, c / (‖g‖₂ + 1e-6)) over all parameters at once, as Lightning
 * does) or `clip_grad_value_` (clamp to [−c, c]).
 */
export function clipGradients(grads: Tensor, clip: GradientClip): Tensor {
  const c = clip.value;
  if (clip.algorithm === 'value') return maximum(neg(maximum(neg(grads), -c)), -c);
  const norm = add(sqrt(reduceSum(mul(grads, grads), [0], false)), 1e-6);
  return mul(grads, div(c, maximum(norm, c)));
}

/** Per-parameter state vectors each optimizer keeps (PyTorch's names). */
export function optimizerSlots(name: OptimizerName): string[] {
  if (name === 'SGD') return ['momentum_buffer'];
  return name === 'Adamax' ? ['exp_avg', 'exp_inf'] : ['exp_avg', 'exp_avg_sq'];
}

export interface OptimizerUpdate {
  params: Tensor;
  slots: Tensor[];
}

/**
 * One update. `step` is the 1-based step number (Adam's bias correction), `slots` the state vectors in
 * `optimizerSlots` order.
 */
export function optimizerUpdate(
  spec: OptimizerSpec,
  params: Tensor,
  rawGrads: Tensor,
  slots: readonly Tensor[],
  lr: Tensor,
  step: Tensor,
): OptimizerUpdate {
  const p = spec.parameters ?? {};
  const grads = spec.gradientClip ? clipGradients(rawGrads, spec.gradientClip) : rawGrads;
  if (spec.name === 'SGD') {
    const weightDecay = p.weight_decay ?? 0;
    const g = weightDecay ? add(grads, mul(params, weightDecay)) : grads;
    const momentum = p.momentum ?? 0;
    if (!momentum) return { params: sub(params, mul(lr, g)), slots: [slots[0]] };
    const buffer = add(mul(slots[0], momentum), g);
    return { params: sub(params, mul(lr, buffer)), slots: [buffer] };
  }
  const [beta1, beta2] = p.betas ?? [0.9, 0.999];
  const eps = p.eps ?? 1e-8;
  if (spec.name === 'Adamax') {
    const weightDecay = p.weight_decay ?? 0;
    const g = weightDecay ? add(grads, mul(params, weightDecay)) : grads;
    const m = add(mul(slots[0], beta1), mul(g, 1 - beta1));
    const u = maximum(mul(slots[1], beta2), add(abs(g), eps));
    const stepSize = div(lr, sub(1, pow(beta1, step)));
    return { params: sub(params, mul(stepSize, div(m, u))), slots: [m, u] };
  }
  const decoupled = spec.name === 'AdamW';
  const weightDecay = p.weight_decay ?? (decoupled ? 1e-2 : 0);
  let theta = params;
  let g = grads;
  if (weightDecay && decoupled) theta = mul(params, sub(1, mul(lr, weightDecay)));
  if (weightDecay && !decoupled) g = add(grads, mul(params, weightDecay));
  const m = add(mul(slots[0], beta1), mul(g, 1 - beta1));
  const v = add(mul(slots[1], beta2), mul(mul(g, g), 1 - beta2));
  const correction1 = sub(1, pow(beta1, step));
  const correction2 = sub(1, pow(beta2, step));
  const denominator = add(div(sqrt(v), sqrt(correction2)), eps);
  const stepSize = div(lr, correction1);
  return { params: sub(theta, mul(stepSize, div(m, denominator))), slots: [m, v] };
}
