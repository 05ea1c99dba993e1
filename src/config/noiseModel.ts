import { z } from 'zod';
import { ConfigError, toConfigIssues } from './errors.js';

/**
 * Noise models p(observation | signal), discriminated on `model_type`: CAREamics' `GaussianMixtureNMConfig`
 * (`config/noise_model/noise_model_config.py`), with its field names and defaults, and our `GaussianNoiseModel`
 * (one Gaussian of fixed sigma, the model N2V's MSE loss assumes). Intensities are raw (unnormalized) units.
 */

/**
 * CAREamics' Gaussian mixture noise model (PN2V, DivNoising, HDN). Each Gaussian's mean offset, variance and
 * mixture weight is a polynomial of the signal scaled to [0, 1] by `min_signal`/`max_signal`; `weight` holds the
 * coefficients, one row per parameter: rows [0, n) the means, [n, 2n) the variances (as logs of the coefficients),
 * [2n, 3n) the mixture weights (logits), with n = `n_gaussian` and `n_coeff` columns.
 */
export const GaussianMixtureNMConfigSchema = z
  .strictObject({
    model_type: z.literal('GaussianMixtureNoiseModel').default('GaussianMixtureNoiseModel'),
    /** A CAREamics `.npz` (`trained_weight` or `weight`, `min_signal`, `max_signal`, `min_sigma`). */
    path: z
      .string()
      .refine((p) => p.toLowerCase().endsWith('.npz'), {
        error: (iss) => `must point to a .npz file, got ${JSON.stringify(iss.input)}`,
      })
      .nullable()
      .default(null),
    /** The [3·n_gaussian, n_coeff] coefficients; null before fitting (or when `path` gives them). */
    weight: z.array(z.array(z.number())).nullable().default(null),
    n_gaussian: z.int().min(1).default(1),
    /** 2 is linear in the signal, 3 quadratic, … */
    n_coeff: z.int().min(2).default(2),
    min_signal: z.number().min(0).default(0),
    max_signal: z.number().min(0).default(1),
    /** Floor of each Gaussian's variance (CAREamics clamps the regressed σ² to it before the square root). */
    min_sigma: z.number().min(0).default(125),
    /** Added to the likelihood, so that its log stays finite; must be positive here for that reason. */
    tol: z.number().positive().default(1e-10),
  })
  .superRefine((c, ctx) => {
    if (c.max_signal <= c.min_signal) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_signal'],
        message: `must be greater than min_signal (${c.min_signal}), got ${c.max_signal}`,
      });
    }
    const w = c.weight;
    if (w === null) return;
    const rows = 3 * c.n_gaussian;
    if (w.length !== rows || w.some((row) => row.length !== c.n_coeff)) {
      const got = `${w.length}×[${[...new Set(w.map((r) => r.length))].join(',')}]`;
      ctx.addIssue({
        code: 'custom',
        path: ['weight'],
        message: `must be 3·n_gaussian × n_coeff = ${rows}×${c.n_coeff}, got ${got}`,
      });
    }
    if (w.some((row) => row.some((v) => !Number.isFinite(v)))) {
      ctx.addIssue({ code: 'custom', path: ['weight'], message: 'must be finite numbers' });
    }
  });

/** Our extension: signal-independent Gaussian noise of standard deviation `sigma` (raw intensity units). */
export const GaussianNoiseModelConfigSchema = z.strictObject({
  model_type: z.literal('GaussianNoiseModel'),
  sigma: z.number().positive(),
});

export const NoiseModelConfigSchema = z.discriminatedUnion('model_type', [
  GaussianMixtureNMConfigSchema,
  GaussianNoiseModelConfigSchema,
]);

/** Kinds of noise model, for messages and registries. */
export const NOISE_MODEL_TYPES = ['GaussianMixtureNoiseModel', 'GaussianNoiseModel'] as const;

export type GaussianMixtureNMConfig = z.infer<typeof GaussianMixtureNMConfigSchema>;
export type GaussianMixtureNMConfigInput = z.input<typeof GaussianMixtureNMConfigSchema>;
export type GaussianNoiseModelConfig = z.infer<typeof GaussianNoiseModelConfigSchema>;
export type NoiseModelConfig = z.infer<typeof NoiseModelConfigSchema>;
export type NoiseModelConfigInput = z.input<typeof NoiseModelConfigSchema>;

/** Validates a noise model configuration; a `ConfigError` names every offending field. */
export function parseNoiseModelConfig(input: unknown): NoiseModelConfig {
  const result = NoiseModelConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(toConfigIssues(result.error.issues, input));
  return result.data;
}

/**
 * How far below log σ² the variance's linear coefficient sits: the variance is σ²·(1 + e⁻⁴⁰·u) with u the signal
 * scaled by [min_signal, max_signal], a relative error under 1e-11 for |u| ≤ 10⁶ (16-bit data on the default
 * [0, 1] range), and e⁻⁴⁰·σ² stays a normal float32 for any σ > 1e-12.
 */
const LINEAR_VARIANCE_OFFSET = 40;

/**
 * Known Gaussian noise of standard deviation `sigma` as CAREamics' GaussianMixtureNoiseModel: one Gaussian, mean
 * the signal, variance exp(w₀) + exp(w₁)·u with w₀ = log σ² and w₁ = w₀ − 40 (CAREamics' variance polynomial has
 * no constant-only form, so w₁ is negligible rather than zero), mixture logit 0, and `min_sigma` (CAREamics'
 * floor on the variance) 0 so that it never binds. PN2V's samples prior then works with a known σ, and the
 * configuration stays readable by CAREamics.
 */
export function gaussianMixtureFromSigma(sigma: number): GaussianMixtureNMConfig {
  if (!(sigma > 0 && Number.isFinite(sigma)))
    throw new ConfigError([{ path: 'sigma', message: `must be a positive number, got ${sigma}` }]);
  const logVariance = Math.log(sigma * sigma);
  return GaussianMixtureNMConfigSchema.parse({
    model_type: 'GaussianMixtureNoiseModel',
    weight: [
      [0, 0],
      [logVariance, logVariance - LINEAR_VARIANCE_OFFSET],
      [0, 0],
    ],
    n_gaussian: 1,
    n_coeff: 2,
    min_signal: 0,
    max_signal: 1,
    min_sigma: 0,
  });
}
