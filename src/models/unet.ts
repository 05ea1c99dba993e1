/**
 * The CAREamics UNet (`careamics/models/unet/unet.py`), layer for layer: the same blocks, channel counts,
 * skip interleaving, N2V2 variant and PyTorch parameter names, in 2D or 3D.
 */
import { type UNetConfig, UNetConfigSchema } from '../config/architecture.js';
import { CareamicsError } from '../errors.js';
import {
  add,
  concat,
  constant,
  conv,
  maxPool,
  relu,
  sigmoid,
  slice,
  type Tensor,
  upsample,
} from '../graph/index.js';
import type { LayerBuilder } from './layers.js';

/** CAREamics' UNet with every field at its default (the schema's). */
export const DEFAULT_UNET: UNetConfig = UNetConfigSchema.parse({});

export class ModelError extends CareamicsError<'ModelError'> {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super('ModelError', field ? `${field}: ${message}` : message);
  }
}

export function validateArchitecture(a: UNetConfig): void {
  if (a.conv_dims !== 2 && a.conv_dims !== 3)
    throw new ModelError(`must be 2 or 3, got ${a.conv_dims}`, 'conv_dims');
  if (!Number.isInteger(a.depth) || a.depth < 1 || a.depth > 10)
    throw new ModelError(`must be 1–10, got ${a.depth}`, 'depth');
  if (a.residual && a.num_classes !== a.in_channels) {
    throw new ModelError(`needs num_classes = in_channels (${a.num_classes} ≠ ${a.in_channels})`, 'residual');
  }
  if (a.independent_channels && a.num_classes % a.in_channels !== 0) {
    throw new ModelError(
      `independent channels need num_classes divisible by in_channels (${a.num_classes}, ${a.in_channels})`,
      'num_classes',
    );
  }
  if (!(a.final_activation in FINAL_ACTIVATIONS)) {
    throw new ModelError(
      `"${a.final_activation}" is not supported (use one of ${Object.keys(FINAL_ACTIVATIONS).join(', ')})`,
      'final_activation',
    );
  }
}

const FINAL_ACTIVATIONS: Record<string, (x: Tensor) => Tensor> = {
  None: (x) => x,
  Sigmoid: sigmoid,
  ReLU: relu,
};

/**
 * Receptive-field radius of the UNet in input pixels: two 3×3 convolutions per level and one pixel per pooling
 * and per upsampling, each scaled by 2**level (8·2^depth − 6); N2V2's max-blur-pool adds a pixel per level.
 */
export function receptiveRadius(a: Pick<UNetConfig, 'depth' | 'n2v2'>): number {
  const scale = 2 ** a.depth;
  return 8 * scale - 6 + (a.n2v2 ? scale - 1 : 0);
}

/**
 * The output halo: the receptive radius rounded up to a multiple of 2**(depth−1), so that tiles of a valid size
 * cropped by the halo on both sides advance by multiples of 2**depth and keep the pooling grid (then tiled and
 * whole-image predictions agree exactly).
 */
export function unetHalo(a: Pick<UNetConfig, 'depth' | 'n2v2'>): number {
  const unit = 2 ** Math.max(0, a.depth - 1);
  return Math.ceil(receptiveRadius(a) / unit) * unit;
}

/** Spatial size must be divisible by this for the UNet to run (each level halves it). */
export const sizeMultiple = (a: UNetConfig) => 2 ** a.depth;

/**
 * Builds the forward pass. `layers` decides how parameters and batch norm become nodes (training,
 * evaluation, folded prediction, or a dry run that lists the parameters).
 */
export function buildUNet(a: UNetConfig, x: Tensor, layers: LayerBuilder): Tensor {
  validateArchitecture(a);
  const groups = a.independent_channels ? a.in_channels : 1;
  const spatial = a.conv_dims;
  const kernel = new Array(spatial).fill(3);
  const pads = new Array(2 * spatial).fill(1);

  const convBlock = (h: Tensor, prefix: string, cin: number, cout: number, multiplier: number) => {
    const mid = cout * multiplier;
    const norm = (i: number) => (a.use_batch_norm ? `${prefix}.batch_norm${i}` : null);
    const spec = (i: number, ci: number, co: number) => ({
      name: `${prefix}.conv${i}`,
      inChannels: ci,
      outChannels: co,
      kernel,
      group: groups,
      pads,
    });
    const h1 = relu(layers.convNorm(h, spec(1, cin, mid), norm(1)));
    return relu(layers.convNorm(h1, spec(2, mid, cout), norm(2)));
  };

  const skips: Tensor[] = [];
  let h = x;
  for (let n = 0; n < a.depth; n++) {
    const cout = a.num_channels_init * 2 ** n * groups;
    const cin = n === 0 ? a.in_channels : cout / 2;
    h = convBlock(h, `encoder.encoder_blocks.${2 * n}`, cin, cout, 1);
    skips.push(h);
    h = a.n2v2 ? maxBlurPool(h) : maxPool(h, new Array(spatial).fill(2));
  }
  const bottom = a.num_channels_init * groups * 2 ** (a.depth - 1);
  h = convBlock(h, 'decoder.bottleneck', bottom, bottom, 2);
  for (let n = 0; n < a.depth; n++) {
    h = upsample(h, 2, 'linear');
    const last = n === a.depth - 1;
    let cin = a.num_channels_init * 2 ** (a.depth - n - 1) * groups;
    const cout = last ? cin : cin / 2;
    if (!(a.n2v2 && last)) {
      h = interleave(h, skips[a.depth - 1 - n], groups);
      cin *= 2;
    }
    h = convBlock(h, `decoder.decoder_blocks.${2 * n + 1}`, cin, cout, last ? 1 : 2);
  }
  let out = layers.convNorm(
    h,
    {
      name: 'final_conv',
      inChannels: a.num_channels_init * groups,
      outChannels: a.num_classes,
      kernel: new Array(spatial).fill(1),
      group: groups,
      pads: new Array(2 * spatial).fill(0),
    },
    null,
  );
  if (a.residual) out = add(out, x);
  return FINAL_ACTIVATIONS[a.final_activation](out);
}

/** Concatenates channel groups alternately (A₀ B₀ A₁ B₁ …), CAREamics' `_interleave`. */
function interleave(a: Tensor, b: Tensor, groups: number): Tensor {
  if (groups === 1) return concat([a, b], 1);
  const m = a.shape[1] / groups;
  const n = b.shape[1] / groups;
  const parts: Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    parts.push(slice(a, [g * m], [(g + 1) * m], [1]), slice(b, [g * n], [(g + 1) * n], [1]));
  }
  return concat(parts, 1);
}

/** MaxPool 2 at stride 1, then a normalised Pascal [1 2 1] blur at stride 2, per channel (N2V2). */
function maxBlurPool(x: Tensor): Tensor {
  const spatial = x.rank - 2;
  const channels = x.shape[1];
  const pooled = maxPool(x, new Array(spatial).fill(2), new Array(spatial).fill(1));
  const taps = [1, 2, 1];
  const size = 3 ** spatial;
  const kernel = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let v = 1;
    for (let d = 0, r = i; d < spatial; d++, r = Math.floor(r / 3)) v *= taps[r % 3];
    kernel[i] = v / 4 ** spatial;
  }
  const weights = new Float32Array(channels * size);
  for (let c = 0; c < channels; c++) weights.set(kernel, c * size);
  const w = constant(weights, [channels, 1, ...new Array(spatial).fill(3)]);
  return conv(pooled, w, undefined, {
    pads: new Array(2 * spatial).fill(1),
    strides: new Array(spatial).fill(2),
    group: channels,
  });
}
