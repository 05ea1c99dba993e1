import { z } from 'zod';

/** Final activations CAREamics' UNet accepts; every algorithm here requires "None". */
export const FINAL_ACTIVATIONS = ['None', 'Sigmoid', 'Softmax', 'Tanh', 'ReLU', 'LeakyReLU'] as const;

/**
 * CAREamics' `UNetConfig` (`config/architectures/unet_config.py`): a N2V(2)-compatible UNet.
 * Unknown keys are rejected, as in CAREamics (`extra="forbid"`).
 */
export const UNetConfigSchema = z.strictObject({
  /** Discriminator; required in CAREamics, defaulted here since it is the only architecture. */
  architecture: z.literal('UNet').default('UNet'),
  /** 2 or 3: dimensions of the convolutions. */
  conv_dims: z.union([z.literal(2), z.literal(3)]).default(2),
  /** Output channels. */
  num_classes: z.int().min(1).default(1),
  /** Input channels. */
  in_channels: z.int().min(1).default(1),
  /** Number of levels. */
  depth: z.int().min(1).max(10).default(2),
  /** Filters at the first level; doubles at each level. */
  num_channels_init: z
    .int()
    .min(8)
    .max(1024)
    .refine((n) => n % 2 === 0, { error: (iss) => `must be even, got ${String(iss.input)}` })
    .default(32),
  /** Add the input to the output. */
  residual: z.boolean().default(false),
  final_activation: z.enum(FINAL_ACTIVATIONS).default('None'),
  /** N2V2 modifications: max-blur-pool and no top skip connection. */
  n2v2: z.boolean().default(false),
  /** Process channels independently (grouped convolutions). */
  independent_channels: z.boolean().default(true),
  use_batch_norm: z.boolean().default(true),
});

export type UNetConfig = z.infer<typeof UNetConfigSchema>;
