import { z } from 'zod';
import { generateRandomSeed } from './random.js';

const odd = (n: number) => n % 2 === 1;

/** structN2V mask orientations (`SupportedStructAxis`). */
export const STRUCT_MASK_AXES = ['horizontal', 'vertical', 'cross', 'square'] as const;
export type StructMaskAxes = (typeof STRUCT_MASK_AXES)[number];

/** CAREamics' `StructMaskConfig`: the structN2V mask applied around each masked pixel. */
export const StructMaskConfigSchema = z.object({
  axes: z.enum(STRUCT_MASK_AXES).default('horizontal'),
  /** Odd, 3 to 15. */
  span: z
    .int()
    .min(3)
    .max(15)
    .refine(odd, { error: (iss) => `must be odd, got ${String(iss.input)}` })
    .default(5),
});

/** Pixel replacement strategies: `uniform` (N2V) or `median` (N2V2). */
export const PIXEL_MANIPULATIONS = ['uniform', 'median'] as const;

/** CAREamics' `N2VManipulateConfig` (`config/algorithms/n2v_manipulation/`). Unknown keys are rejected. */
export const N2VManipulateConfigSchema = z.strictObject({
  name: z.literal('N2VManipulate').default('N2VManipulate'),
  /** Side of the region the replacement value is drawn from; odd, 3 to 21. */
  roi_size: z
    .int()
    .min(3)
    .max(21)
    .refine(odd, { error: (iss) => `must be odd, got ${String(iss.input)}` })
    .default(11),
  /** Percent (not fraction) of pixels masked per patch: 0.2 means 0.2 %. */
  masked_pixel_percentage: z.number().min(0.05).max(10).default(0.2),
  strategy: z.enum(PIXEL_MANIPULATIONS).default('uniform'),
  /** structN2V mask, or null for plain N2V. */
  struct_mask: StructMaskConfigSchema.nullable().default(null),
  /** Masking seed; a random one is drawn when missing. */
  seed: z.int().positive().default(generateRandomSeed),
});

export type StructMaskConfig = z.infer<typeof StructMaskConfigSchema>;
export type N2VManipulateConfig = z.infer<typeof N2VManipulateConfigSchema>;
