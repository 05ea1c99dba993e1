/**
 * BMZ 0.5 pre- and postprocessing as one op table: each entry turns a step's kwargs into an in-place transform
 * of a float32 tensor whose axes are named by id ('batch', 'channel', 'z', 'y', 'x'). Formulas and epsilons
 * follow bioimageio.core. Steps outside the table are refused when a package is imported, not when it runs.
 */
import { WelfordStatistics } from '../data/normalization.js';
import { BmzError } from './errors.js';

export interface ProcessingStep {
  id: string;
  kwargs?: Record<string, unknown>;
}

/** A float32 tensor with one id per axis. */
export interface NamedTensor {
  data: Float32Array;
  shape: readonly number[];
  axes: readonly string[];
}

type Transform = (t: NamedTensor) => void;
type Compile = (kwargs: Record<string, unknown>, where: string) => Transform;

/** bioimageio.core's default epsilon for (fixed_)zero_mean_unit_variance. */
export const BMZ_EPS = 1e-6;

function fail(where: string, message: string): never {
  throw new BmzError('UnsupportedProcessing', `${where}: ${message}`, { file: 'rdf.yaml' });
}

function numbers(value: unknown, name: string, where: string): number[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    fail(where, `${name} must be a number or a list of numbers, got ${JSON.stringify(value)}`);
  return list as number[];
}

/**
 * Applies `f(value, parameterIndex)` to every element, the parameter index being the position along `axis`
 * (0 everywhere when `axis` is undefined). Checks that there is one parameter per position.
 */
function alongAxis(
  t: NamedTensor,
  axis: string | undefined,
  count: number,
  where: string,
  f: (v: number, k: number) => number,
): void {
  const { data, shape } = t;
  if (axis === undefined) {
    for (let i = 0; i < data.length; i++) data[i] = f(data[i], 0);
    return;
  }
  const a = t.axes.indexOf(axis);
  if (a < 0) fail(where, `axis "${axis}" is not one of the tensor's axes [${t.axes}]`);
  const n = shape[a];
  if (count !== 1 && count !== n) fail(where, `${count} values for axis "${axis}" of size ${n}`);
  const inner = shape.slice(a + 1).reduce((x, y) => x * y, 1);
  for (let i = 0; i < data.length; i++) data[i] = f(data[i], count === 1 ? 0 : Math.floor(i / inner) % n);
}

/** Per-sample mean and std over `axes` (all but batch when absent), then (x - mean) / (std + eps). */
function standardize(t: NamedTensor, reduce: readonly string[], eps: number): void {
  const kept = t.axes.map((id, i) => (reduce.includes(id) ? 1 : t.shape[i]));
  const groups = kept.reduce((x, y) => x * y, 1);
  const strides = kept.map((_, i) => kept.slice(i + 1).reduce((x, y) => x * y, 1));
  // The trailing reduced axes make runs of consecutive values that share a group.
  let outer = kept.length - 1;
  let run = 1;
  for (; outer >= 0 && kept[outer] === 1; outer--) run *= t.shape[outer];
  const group = new Int32Array(t.data.length / run);
  const moments = new WelfordStatistics(groups);
  const index = new Array(t.shape.length).fill(0);
  for (let r = 0; r < group.length; r++) {
    let g = 0;
    for (let d = 0; d <= outer; d++) if (kept[d] !== 1) g += index[d] * strides[d];
    group[r] = g;
    moments.addRun(g, t.data, r * run, (r + 1) * run);
    for (let d = outer; d >= 0 && ++index[d] === t.shape[d]; d--) index[d] = 0;
  }
  const scale = Array.from({ length: groups }, (_, g) => moments.std(g) + eps);
  for (let i = 0; i < t.data.length; i++) {
    const g = group[Math.floor(i / run)];
    t.data[i] = (t.data[i] - moments.mean[g]) / scale[g];
  }
}

const optionalAxis = (kwargs: Record<string, unknown>) =>
  typeof kwargs.axis === 'string' ? kwargs.axis : undefined;

/** The supported steps: id → compile(kwargs) → in-place transform. */
const OPS: Record<string, Compile> = {
  // careamics-js computes in float32 throughout; dtype casts are not applied.
  ensure_dtype: () => () => {},
  fixed_zero_mean_unit_variance: (kwargs, where) => {
    const mean = numbers(kwargs.mean, 'mean', where);
    const std = numbers(kwargs.std, 'std', where);
    if (mean.length !== std.length) fail(where, `${mean.length} means but ${std.length} stds`);
    const axis = optionalAxis(kwargs);
    return (t) => alongAxis(t, axis, mean.length, where, (v, k) => (v - mean[k]) / (std[k] + BMZ_EPS));
  },
  zero_mean_unit_variance: (kwargs) => {
    const { axes, eps } = standardizationKwargs(kwargs);
    return (t) => standardize(t, axes ?? t.axes.filter((a) => a !== 'batch'), eps);
  },
  scale_linear: (kwargs, where) => {
    const gain = numbers(kwargs.gain ?? 1, 'gain', where);
    const offset = numbers(kwargs.offset ?? 0, 'offset', where);
    const axis = optionalAxis(kwargs);
    const count = Math.max(gain.length, offset.length);
    if (gain.length !== offset.length && Math.min(gain.length, offset.length) !== 1)
      fail(where, `${gain.length} gains but ${offset.length} offsets`);
    const g = (k: number) => gain[gain.length === 1 ? 0 : k];
    const o = (k: number) => offset[offset.length === 1 ? 0 : k];
    return (t) => alongAxis(t, axis, count, where, (v, k) => v * g(k) + o(k));
  },
  clip: (kwargs, where) => {
    if (kwargs.min_percentile != null || kwargs.max_percentile != null)
      fail(where, 'clip by percentile is not supported');
    const lo = typeof kwargs.min === 'number' ? kwargs.min : -Infinity;
    const hi = typeof kwargs.max === 'number' ? kwargs.max : Infinity;
    return (t) => alongAxis(t, undefined, 1, where, (v) => Math.min(hi, Math.max(lo, v)));
  },
  sigmoid: (_kwargs, where) => (t) => alongAxis(t, undefined, 1, where, (v) => 1 / (1 + Math.exp(-v))),
};

function standardizationKwargs(kwargs: Record<string, unknown>) {
  return {
    eps: typeof kwargs.eps === 'number' ? kwargs.eps : BMZ_EPS,
    axes: Array.isArray(kwargs.axes) ? kwargs.axes.map(String) : undefined,
  };
}

/** A leading `zero_mean_unit_variance`, whose statistics are the whole sample's, and the steps after it. */
export interface SampleStandardization {
  /** The axis ids reduced together; all but batch when absent. */
  axes: string[] | undefined;
  eps: number;
  /** The remaining steps, each pointwise: they run tile by tile. */
  rest: ProcessingStep[];
}

/** Steps that leave values as they are (careamics-js computes in float32 throughout). */
const VALUE_PRESERVING = new Set(['ensure_dtype']);

/**
 * Splits off a preprocessing's `zero_mean_unit_variance` for whole-sample statistics: it must be the first step
 * that changes values (after it every supported step is pointwise, so tiles compute what the whole sample
 * would). Undefined when there is none; throws `BmzError` (UnsupportedProcessing) naming a later one.
 */
export function splitSampleStandardization(
  steps: readonly ProcessingStep[],
  where: string,
): SampleStandardization | undefined {
  const at = steps.findIndex((s) => s.id === 'zero_mean_unit_variance');
  if (at < 0) return undefined;
  const later = steps.findIndex((s, i) => s.id === 'zero_mean_unit_variance' && i > at);
  const before = steps.slice(0, at).findIndex((s) => !VALUE_PRESERVING.has(s.id));
  if (later >= 0 || before >= 0) {
    const i = later >= 0 ? later : at;
    fail(
      `${where}[${i}] (zero_mean_unit_variance)`,
      'careamics-js computes whole-sample statistics only for a single zero_mean_unit_variance that is the first step changing values',
    );
  }
  const { axes, eps } = standardizationKwargs(steps[at]!.kwargs ?? {});
  return { axes, eps, rest: [...steps.slice(0, at), ...steps.slice(at + 1)] };
}

/** The step ids `compileProcessing` accepts. */
export const SUPPORTED_PROCESSING = Object.keys(OPS);

/**
 * Checks every step and returns one transform applying them in order, in place. `where` names the steps in
 * messages, e.g. `inputs[0].preprocessing`. Throws `BmzError` (UnsupportedProcessing) for unknown steps.
 */
export function compileProcessing(steps: readonly ProcessingStep[], where: string): Transform {
  const transforms = steps.map((step, i) => {
    const at = `${where}[${i}] (${step.id})`;
    const compile = OPS[step.id];
    if (!compile) fail(at, `unsupported step; careamics-js runs ${SUPPORTED_PROCESSING.join(', ')}`);
    return compile(step.kwargs ?? {}, at);
  });
  return (t) => {
    for (const transform of transforms) transform(t);
  };
}
