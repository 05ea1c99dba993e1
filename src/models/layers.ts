/**
 * How a UNet's conv + batch-norm layers become graph nodes. The UNet is written once (`unet.ts`) against the
 * `LayerBuilder` interface; each graph kind supplies its own builder:
 * - `ParameterCollector`: a dry run that lists parameters and buffers with their shapes and initialisation;
 * - `TrainingLayers`: parameters sliced from one flat input, batch statistics, running-stat updates;
 * - `EvaluationLayers`: parameters sliced from one flat input, running statistics;
 * - `FoldedLayers`: parameters as constants with batch norm folded into the conv (the predict graph).
 */
import {
  add,
  batchNormAffine,
  constant,
  conv,
  div,
  GraphError,
  input,
  mul,
  reduceMean,
  reshape,
  slice,
  sqrt,
  sub,
  type Tensor,
} from '../graph/index.js';

export const BATCH_NORM_EPS = 1e-5;
export const BATCH_NORM_MOMENTUM = 0.1;

export interface ConvSpec {
  /** PyTorch module path, e.g. `encoder.encoder_blocks.0.conv1`. */
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: number[];
  group: number;
  pads: number[];
}

export interface LayerBuilder {
  /** conv(x) followed by batch norm when `batchNorm` names one: the pre-activation. */
  convNorm(x: Tensor, spec: ConvSpec, batchNorm: string | null): Tensor;
}

export type Init = 'kaiming_uniform' | 'ones' | 'zeros';

export interface ParameterSpec {
  name: string;
  shape: number[];
  init: Init;
  /** PyTorch's default conv init draws U(−1/√fanIn, 1/√fanIn) for weights and biases. */
  fanIn: number;
}

export interface BufferSpec {
  name: string;
  shape: number[];
  init: 'zeros' | 'ones';
}

export interface Entry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Where each named tensor lives inside one flat Float32Array. */
export class FlatLayout {
  readonly entries: Entry[] = [];
  readonly size: number;
  private readonly byName = new Map<string, Entry>();

  constructor(specs: readonly { name: string; shape: number[] }[]) {
    let offset = 0;
    for (const { name, shape } of specs) {
      const size = shape.reduce((a, b) => a * b, 1);
      const entry = { name, shape, offset, size };
      this.entries.push(entry);
      this.byName.set(name, entry);
      offset += size;
    }
    this.size = offset;
  }

  get(name: string): Entry {
    const entry = this.byName.get(name);
    if (!entry) throw new GraphError(`no tensor named ${name} in the layout`, 'FlatLayout');
    return entry;
  }

  view(flat: Float32Array, name: string): Float32Array {
    const { offset, size } = this.get(name);
    return flat.subarray(offset, offset + size);
  }
}

const weightShape = (s: ConvSpec) => [s.outChannels, s.inChannels / s.group, ...s.kernel];
const fanIn = (s: ConvSpec) => (s.inChannels / s.group) * s.kernel.reduce((a, b) => a * b, 1);
const channelShape = (c: number, rank: number) => [1, c, ...new Array(rank - 2).fill(1)];
const statAxes = (rank: number) => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];

export class ParameterCollector implements LayerBuilder {
  readonly parameters: ParameterSpec[] = [];
  readonly buffers: BufferSpec[] = [];

  convNorm(x: Tensor, spec: ConvSpec, batchNorm: string | null): Tensor {
    const shape = weightShape(spec);
    this.parameters.push(
      { name: `${spec.name}.weight`, shape, init: 'kaiming_uniform', fanIn: fanIn(spec) },
      { name: `${spec.name}.bias`, shape: [spec.outChannels], init: 'kaiming_uniform', fanIn: fanIn(spec) },
    );
    if (batchNorm) {
      const c = [spec.outChannels];
      this.parameters.push(
        { name: `${batchNorm}.weight`, shape: c, init: 'ones', fanIn: 0 },
        { name: `${batchNorm}.bias`, shape: c, init: 'zeros', fanIn: 0 },
      );
      this.buffers.push(
        { name: `${batchNorm}.running_mean`, shape: c, init: 'zeros' },
        { name: `${batchNorm}.running_var`, shape: c, init: 'ones' },
      );
    }
    const w = input(`${spec.name}.weight`, shape);
    return conv(x, w, undefined, { pads: spec.pads, group: spec.group });
  }
}

/** Slices named views out of a flat graph input. */
class FlatViews {
  readonly views = new Map<string, Tensor>();

  constructor(
    private readonly flat: Tensor,
    private readonly layout: FlatLayout,
  ) {}

  get(name: string): Tensor {
    let view = this.views.get(name);
    if (!view) {
      const { offset, size, shape } = this.layout.get(name);
      view = reshape(slice(this.flat, [offset], [offset + size], [0]), shape);
      this.views.set(name, view);
    }
    return view;
  }
}

function convWithViews(x: Tensor, spec: ConvSpec, params: FlatViews): Tensor {
  const w = params.get(`${spec.name}.weight`);
  const b = params.get(`${spec.name}.bias`);
  return conv(x, w, b, { pads: spec.pads, group: spec.group });
}

/** Batch norm's γ and β shaped (1, C, 1…) to broadcast over `like`. */
function scaleAndShift(params: FlatViews, batchNorm: string, like: Tensor) {
  const shape = channelShape(like.shape[1], like.rank);
  return {
    gamma: reshape(params.get(`${batchNorm}.weight`), shape),
    beta: reshape(params.get(`${batchNorm}.bias`), shape),
  };
}

/** Layers whose parameters and buffers are slices of two flat graph inputs. */
abstract class FlatInputLayers implements LayerBuilder {
  readonly params: FlatViews;
  protected readonly buffers: FlatViews;

  constructor(params: Tensor, paramLayout: FlatLayout, buffers: Tensor, bufferLayout: FlatLayout) {
    this.params = new FlatViews(params, paramLayout);
    this.buffers = new FlatViews(buffers, bufferLayout);
  }

  abstract convNorm(x: Tensor, spec: ConvSpec, batchNorm: string | null): Tensor;
}

export class TrainingLayers extends FlatInputLayers {
  /** Updated running statistics by buffer name (PyTorch's momentum update, unbiased variance). */
  readonly updatedBuffers = new Map<string, Tensor>();
  /**
   * Parameters whose gradient is exactly zero: conv biases before a batch norm, which subtracts the batch mean
   * and with it the bias (PyTorch computes their gradient as rounding noise). Not differentiating them saves a
   * full-size reduction per layer.
   */
  readonly zeroGradient = new Set<string>();

  convNorm(x: Tensor, spec: ConvSpec, batchNorm: string | null): Tensor {
    const z = convWithViews(x, spec, this.params);
    if (!batchNorm) return z;
    this.zeroGradient.add(`${spec.name}.bias`);
    const axes = statAxes(z.rank);
    const mean = reduceMean(z, axes);
    const centred = sub(z, mean);
    const variance = reduceMean(mul(centred, centred), axes);
    const invStd = div(1, sqrt(add(variance, BATCH_NORM_EPS)));
    const count = z.size / z.shape[1];
    const m = BATCH_NORM_MOMENTUM;
    const c = [z.shape[1]];
    const runningMean = this.buffers.get(`${batchNorm}.running_mean`);
    const runningVar = this.buffers.get(`${batchNorm}.running_var`);
    this.updatedBuffers.set(
      `${batchNorm}.running_mean`,
      add(mul(runningMean, 1 - m), mul(reshape(mean, c), m)),
    );
    this.updatedBuffers.set(
      `${batchNorm}.running_var`,
      add(mul(runningVar, 1 - m), mul(reshape(variance, c), (m * count) / Math.max(count - 1, 1))),
    );
    const { gamma, beta } = scaleAndShift(this.params, batchNorm, z);
    return batchNormAffine(z, centred, invStd, gamma, beta);
  }
}

export class EvaluationLayers extends FlatInputLayers {
  convNorm(x: Tensor, spec: ConvSpec, batchNorm: string | null): Tensor {
    const z = convWithViews(x, spec, this.params);
    if (!batchNorm) return z;
    const shape = channelShape(z.shape[1], z.rank);
    const mean = reshape(this.buffers.get(`${batchNorm}.running_mean`), shape);
    const variance = reshape(this.buffers.get(`${batchNorm}.running_var`), shape);
    const xhat = div(sub(z, mean), sqrt(add(variance, BATCH_NORM_EPS)));
    const { gamma, beta } = scaleAndShift(this.params, batchNorm, z);
    return add(mul(xhat, gamma), beta);
  }
}

/** Constants with batch norm folded in: W' = W·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β. */
export class FoldedLayers implements LayerBuilder {
  constructor(
    private readonly params: Float32Array,
    private readonly paramLayout: FlatLayout,
    private readonly buffers: Float32Array,
    private readonly bufferLayout: FlatLayout,
  ) {}

  convNorm(x: Tensor, spec: ConvSpec, batchNorm: string | null): Tensor {
    const weight = Float32Array.from(this.paramLayout.view(this.params, `${spec.name}.weight`));
    const bias = Float32Array.from(this.paramLayout.view(this.params, `${spec.name}.bias`));
    if (batchNorm) {
      const gamma = this.paramLayout.view(this.params, `${batchNorm}.weight`);
      const beta = this.paramLayout.view(this.params, `${batchNorm}.bias`);
      const mean = this.bufferLayout.view(this.buffers, `${batchNorm}.running_mean`);
      const variance = this.bufferLayout.view(this.buffers, `${batchNorm}.running_var`);
      const perChannel = weight.length / spec.outChannels;
      for (let c = 0; c < spec.outChannels; c++) {
        const scale = gamma[c] / Math.sqrt(variance[c] + BATCH_NORM_EPS);
        for (let k = 0; k < perChannel; k++) weight[c * perChannel + k] *= scale;
        bias[c] = (bias[c] - mean[c]) * scale + beta[c];
      }
    }
    const w = constant(weight, weightShape(spec));
    const b = constant(bias, [spec.outChannels]);
    return conv(x, w, b, { pads: spec.pads, group: spec.group });
  }
}
