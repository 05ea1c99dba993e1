import { z } from 'zod';
import { UNetConfigSchema } from './architecture.js';
import { N2VManipulateConfigSchema } from './n2vManipulate.js';
import { NoiseModelConfigSchema } from './noiseModel.js';
import { LrSchedulerConfigSchema, OptimizerConfigSchema } from './optimizer.js';

/**
 * Algorithm configs, as CAREamics' `config/algorithms/*_algorithm_config.py`: a UNet, a loss, an optimizer and a
 * learning-rate scheduler, discriminated on `algorithm`.
 */

export const ALGORITHMS = ['n2v', 'pn2v', 'care', 'n2n'] as const;
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

/** N2V's masking: N2V2 goes with median replacement, N2V with uniform. */
function checkMasking(
  model: UNet,
  n2v_config: z.infer<typeof N2VManipulateConfigSchema>,
  ctx: z.core.$RefinementCtx,
): void {
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
}

const selfSupervised = {
  ...unetBased,
  /** Metric the scheduler monitors. */
  monitor_metric: z.enum(['train_loss', 'train_loss_epoch', 'val_loss']).default('val_loss'),
  n2v_config: N2VManipulateConfigSchema.prefault({}),
};

/** CAREamics' `N2VAlgorithm`: N2V, N2V2 and structN2V. */
export const N2VAlgorithmSchema = z
  .object({
    algorithm: z.literal('n2v'),
    loss: z.literal('n2v').default('n2v'),
    ...selfSupervised,
  })
  .superRefine((alg, ctx) => {
    const { model } = alg;
    if (model.num_classes !== model.in_channels)
      issue(
        ctx,
        ['model', 'num_classes'],
        `N2V needs as many output as input channels (in_channels=${model.in_channels}, num_classes=${model.num_classes})`,
      );
    checkNoFinalActivation(model, ctx);
    checkMasking(model, alg.n2v_config, ctx);
  });

/**
 * CAREamics' `PN2VAlgorithm`: N2V's masking, and a noise model the network's prior is combined with. The prior
 * per input channel is what `model.num_classes` holds, channel-major: with a `GaussianNoiseModel` a Gaussian
 * (mean and log-variance: num_classes = 2·in_channels, Laine et al. 2019); with a `GaussianMixtureNoiseModel`
 * K samples of the clean signal (num_classes = K·in_channels, K ≥ 2, Krull et al. 2020 used 800).
 */
export const PN2VAlgorithmSchema = z
  .object({
    algorithm: z.literal('pn2v'),
    loss: z.literal('pn2v').default('pn2v'),
    ...selfSupervised,
    noise_model: NoiseModelConfigSchema.optional(),
  })
  .superRefine((alg, ctx) => {
    const { model, noise_model } = alg;
    checkNoFinalActivation(model, ctx);
    checkMasking(model, alg.n2v_config, ctx);
    if (model.residual)
      issue(ctx, ['model', 'residual'], 'pn2v predicts a prior, not an image: set it to false');
    if (!noise_model) {
      issue(
        ctx,
        ['noise_model'],
        'pn2v needs a noise model: a GaussianMixtureNoiseModel (path to a .npz, or weight) or a GaussianNoiseModel (sigma)',
      );
      return;
    }
    const c = model.in_channels;
    if (noise_model.model_type === 'GaussianNoiseModel') {
      if (model.num_classes !== 2 * c)
        issue(
          ctx,
          ['model', 'num_classes'],
          `pn2v with a GaussianNoiseModel predicts a mean and a log-variance per channel: must be 2·in_channels = ${2 * c}, got ${model.num_classes}`,
        );
    } else {
      if (model.num_classes % c !== 0 || model.num_classes < 2 * c)
        issue(
          ctx,
          ['model', 'num_classes'],
          `pn2v with a GaussianMixtureNoiseModel predicts K ≥ 2 samples per channel: must be K·in_channels (in_channels=${c}), got ${model.num_classes}`,
        );
      if (noise_model.path === null && noise_model.weight === null)
        issue(ctx, ['noise_model', 'path'], 'the GaussianMixtureNoiseModel needs a .npz path or its weight');
    }
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
  PN2VAlgorithmSchema,
  CAREAlgorithmSchema,
  N2NAlgorithmSchema,
]);

export type N2VAlgorithm = z.infer<typeof N2VAlgorithmSchema>;
export type PN2VAlgorithm = z.infer<typeof PN2VAlgorithmSchema>;
export type CAREAlgorithm = z.infer<typeof CAREAlgorithmSchema>;
export type N2NAlgorithm = z.infer<typeof N2NAlgorithmSchema>;
export type AlgorithmConfig = z.infer<typeof AlgorithmConfigSchema>;

/** CARE and N2N train against targets; N2V and PN2V do not. */
export function isSupervised(alg: AlgorithmConfig): boolean {
  return alg.algorithm !== 'n2v' && alg.algorithm !== 'pn2v';
}

/** The algorithms that mask pixels and train on the images alone (N2V's masking). */
export type SelfSupervisedAlgorithm = N2VAlgorithm | PN2VAlgorithm;
export const isSelfSupervised = (alg: AlgorithmConfig): alg is SelfSupervisedAlgorithm => !isSupervised(alg);

/** Channels the trained model's prediction has: pn2v returns one estimate per input channel. */
export const predictionChannels = (alg: AlgorithmConfig): number =>
  alg.algorithm === 'pn2v' ? alg.model.in_channels : alg.model.num_classes;
