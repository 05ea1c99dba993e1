import { z } from 'zod';
import { UNetConfigSchema } from './architecture.js';
import { N2VManipulateConfigSchema } from './n2vManipulate.js';
import { LrSchedulerConfigSchema, OptimizerConfigSchema } from './optimizer.js';

/**
 * Algorithm configs, as CAREamics' `config/algorithms/*_algorithm_config.py`: a UNet, a loss, an optimizer and a
 * learning-rate scheduler, discriminated on `algorithm`.
 */

export const ALGORITHMS = ['n2v', 'care', 'n2n'] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];

const issue = (ctx: z.core.$RefinementCtx, path: PropertyKey[], message: string) =>
  ctx.addIssue({ code: 'custom', path, message });

const unetBased = {
  model: UNetConfigSchema.prefault({}),
  optimizer: OptimizerConfigSchema.prefault({}),
  lr_scheduler: LrSchedulerConfigSchema.prefault({}),
};

type UNet = z.infer<typeof UNetConfigSchema>;

function checkNoFinalActivation(model: UNet, ctx: z.core.$RefinementCtx): void {
  if (model.final_activation !== 'None')
    issue(
      ctx,
      ['model', 'final_activation'],
      `the algorithm does not support a final activation, set it to "None"`,
    );
}

/** CARE and N2N: no N2V2, no final activation, dependent channels when in and out channels differ. */
function checkSupervisedModel(model: UNet, ctx: z.core.$RefinementCtx): void {
  if (model.n2v2) issue(ctx, ['model', 'n2v2'], 'the algorithm does not support `n2v2`, set it to false');
  checkNoFinalActivation(model, ctx);
  if (model.num_classes !== model.in_channels && model.independent_channels)
    issue(
      ctx,
      ['model', 'independent_channels'],
      `channels cannot be independent when input and output channel numbers differ (in_channels=${model.in_channels}, num_classes=${model.num_classes})`,
    );
}

/** CAREamics' `N2VAlgorithm`: N2V, N2V2 and structN2V. */
export const N2VAlgorithmSchema = z
  .object({
    algorithm: z.literal('n2v'),
    loss: z.literal('n2v').default('n2v'),
    ...unetBased,
    /** Metric the scheduler monitors. */
    monitor_metric: z.enum(['train_loss', 'train_loss_epoch', 'val_loss']).default('val_loss'),
    n2v_config: N2VManipulateConfigSchema.prefault({}),
  })
  .superRefine((alg, ctx) => {
    const { model, n2v_config } = alg;
    if (model.num_classes !== model.in_channels)
      issue(
        ctx,
        ['model', 'num_classes'],
        `N2V needs as many output as input channels (in_channels=${model.in_channels}, num_classes=${model.num_classes})`,
      );
    checkNoFinalActivation(model, ctx);
    if (model.n2v2 && n2v_config.strategy !== 'median')
      issue(
        ctx,
        ['n2v_config', 'strategy'],
        `N2V2 (model.n2v2=true) requires strategy "median", got "${n2v_config.strategy}"`,
      );
    if (!model.n2v2 && n2v_config.strategy !== 'uniform')
      issue(
        ctx,
        ['n2v_config', 'strategy'],
        `N2V (model.n2v2=false) requires strategy "uniform", got "${n2v_config.strategy}"`,
      );
  });

/** CAREamics' `CAREAlgorithm`: supervised restoration, loss mae (default) or mse. */
export const CAREAlgorithmSchema = z
  .object({
    algorithm: z.literal('care'),
    loss: z.enum(['mae', 'mse']).default('mae'),
    ...unetBased,
  })
  .superRefine((alg, ctx) => checkSupervisedModel(alg.model, ctx));

/** CAREamics' `N2NAlgorithm`: Noise2Noise, loss mae (default) or mse. */
export const N2NAlgorithmSchema = z
  .object({
    algorithm: z.literal('n2n'),
    loss: z.enum(['mae', 'mse']).default('mae'),
    ...unetBased,
  })
  .superRefine((alg, ctx) => checkSupervisedModel(alg.model, ctx));

export const AlgorithmConfigSchema = z.discriminatedUnion('algorithm', [
  N2VAlgorithmSchema,
  CAREAlgorithmSchema,
  N2NAlgorithmSchema,
]);

export type N2VAlgorithm = z.infer<typeof N2VAlgorithmSchema>;
export type CAREAlgorithm = z.infer<typeof CAREAlgorithmSchema>;
export type N2NAlgorithm = z.infer<typeof N2NAlgorithmSchema>;
export type AlgorithmConfig = z.infer<typeof AlgorithmConfigSchema>;

/** CARE and N2N train against targets; N2V does not. */
export function isSupervised(alg: AlgorithmConfig): boolean {
  return alg.algorithm !== 'n2v';
}
