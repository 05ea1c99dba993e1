/**
 * Convolution FLOPs of a UNet, counted from its architecture: 2·(Cin/group)·Cout·kᵈ per output voxel of each conv.
 * A training step runs each conv three times (forward, dX, dW), except the first conv, whose input needs no
 * gradient (no dX); a prediction runs the forward only.
 */
import type { UNetConfig } from '../src/config/index.js';
import { conv, input, type Tensor } from '../src/graph/index.js';
import { buildUNet, type ConvSpec, type LayerBuilder } from '../src/models/index.js';

class ConvCounter implements LayerBuilder {
  readonly flops: number[] = [];

  convNorm(x: Tensor, spec: ConvSpec): Tensor {
    const w = input(`${spec.name}.weight`, [spec.outChannels, spec.inChannels / spec.group, ...spec.kernel]);
    const y = conv(x, w, undefined, { pads: spec.pads, group: spec.group });
    const taps = spec.kernel.reduce((a, b) => a * b, 1);
    this.flops.push(2 * (spec.inChannels / spec.group) * taps * y.size);
    return y;
  }
}

/** GFLOP of the convolutions of one prediction (`forward`) and one training step (`step`) on `shape`. */
export function convGflop(
  architecture: UNetConfig,
  shape: readonly number[],
): { forward: number; step: number } {
  const counter = new ConvCounter();
  buildUNet(architecture, input('input', shape), counter);
  const forward = counter.flops.reduce((a, b) => a + b, 0);
  const step = 3 * forward - counter.flops[0]!;
  return { forward: forward / 1e9, step: step / 1e9 };
}
