/**
 * A trainable model: its parameters, batch-norm statistics and optimizer state as flat Float32Arrays, and
 * ORT sessions for the three graphs, compiled on first use and cached by shape.
 */

import type { InferenceSession } from 'onnxruntime-common';
import type { UNetConfig } from '../config/index.js';
import {
  type DataAffine,
  DEFAULT_UNET,
  initialBuffers,
  initialParameters,
  isMaskedLoss,
  type LossName,
  type OptimizerSpec,
  optimizerSlots,
  type Pn2vNoise,
  type Pn2vOutput,
  sizeMultiple,
} from '../models/index.js';
import { onDevice } from './device.js';
import { DeviceState } from './deviceState.js';
import {
  buildEvaluationGraph,
  buildPredictionGraph,
  buildTrainingGraph,
  describeModel,
  type ModelDescription,
  type Pn2vSpec,
  targetChannels,
} from './graphs.js';
import { maskedIndices } from './maskedIndex.js';
import {
  createSession,
  type Device,
  EngineError,
  type Runtime,
  runSession,
  runSessionOnDevice,
} from './runtime.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';
import { type ModelState, stateFromTensors, stateTensors } from './stateTensors.js';

export type { ModelState };

export interface ModelOptions {
  architecture?: Partial<UNetConfig>;
  loss?: LossName;
  optimizer?: OptimizerSpec;
  /** Learning rate used when `trainStep` is not given one (PyTorch's Adam default). */
  learningRate?: number;
  seed?: number;
  /** Where the graphs run (default: the runtime's own device, the CPU for `nodeRuntime()`). */
  device?: Device;
  /** The noise the pn2v loss and posterior combine with the network's prior (required with loss `pn2v`). */
  pn2vNoise?: Pn2vNoise;
}

/**
 * A batch: input (B, C, [Z,] Y, X); target and mask (B, num_classes, …), or (B, C, …) for pn2v; mask only for
 * the n2v and pn2v losses.
 */
export interface Batch {
  input: Float32Array;
  target: Float32Array;
  mask?: Float32Array;
  shape: readonly number[];
}

export class Model {
  readonly description: ModelDescription;
  readonly loss: LossName;
  readonly optimizer: OptimizerSpec;
  readonly pn2vNoise?: Pn2vNoise;
  learningRate: number;
  private host: ModelState;
  /** pn2v: the data's map to raw units, which the noise model works in. */
  private affine?: DataAffine;
  private pn2vOutputMode: Pn2vOutput = 'mmse';
  private maskedPerRow = 0;
  /** Set while the latest state is only on the device (a GPU): `syncState` brings it back. */
  private hostIsStale = false;
  private readonly onDevice: DeviceState;
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  private predictionSession?: { version: number; session: Promise<InferenceSession> };
  private version = 0;

  private constructor(
    readonly runtime: Runtime,
    options: ModelOptions,
  ) {
    this.description = describeModel({ ...DEFAULT_UNET, ...options.architecture });
    this.loss = options.loss ?? 'n2v';
    this.pn2vNoise = options.pn2vNoise;
    if (this.loss === 'pn2v' && !this.pn2vNoise)
      throw new EngineError('the pn2v loss needs a noise model (pn2vNoise)');
    this.optimizer = options.optimizer ?? { name: 'Adam' };
    this.learningRate = options.learningRate ?? 1e-3;
    const { parameters, buffers, parameterLayout, bufferLayout } = this.description;
    const slots = Object.fromEntries(
      optimizerSlots(this.optimizer.name).map((name) => [name, new Float32Array(parameterLayout.size)]),
    );
    this.onDevice = new DeviceState(runtime);
    this.host = {
      params: initialParameters(parameters, parameterLayout, options.seed ?? 0),
      buffers: initialBuffers(buffers, bufferLayout),
      slots,
      step: 0,
    };
  }

  static async create(runtime: Runtime, options: ModelOptions = {}): Promise<Model> {
    return new Model(await onDevice(runtime, options.device), options);
  }

  /**
   * Parameters, buffers and optimizer state in host memory. On a GPU the state stays on the device between steps:
   * `await syncState()` first (training does at each checkpoint; `predict` does by itself).
   */
  get state(): ModelState {
    if (this.hostIsStale) {
      throw new EngineError(
        'the model state is on the GPU since the last step: await model.syncState() first',
      );
    }
    return this.host;
  }

  set state(state: ModelState) {
    this.onDevice.forget();
    this.hostIsStale = false;
    this.host = state;
  }

  /** Brings the state the last steps left on the device back to host memory (a no-op on the CPU). */
  async syncState(): Promise<void> {
    if (!this.hostIsStale) return;
    const copied = await this.onDevice.read();
    const { params, buffers, ...slots } = copied;
    this.host = {
      params: params ?? this.host.params,
      buffers: buffers ?? this.host.buffers,
      slots: { ...this.host.slots, ...slots },
      step: this.host.step,
    };
    this.hostIsStale = false;
  }

  /**
   * The per-channel map from the network's normalized units back to raw intensities (raw = x · scale + offset),
   * which pn2v needs because its noise model is in raw units. The trainer sets it from the data statistics.
   */
  setDataAffine(affine: DataAffine): void {
    const same = (a: readonly number[], b: readonly number[]) =>
      a.length === b.length && a.every((v, i) => v === b[i]);
    if (this.affine && same(this.affine.offset, affine.offset) && same(this.affine.scale, affine.scale))
      return;
    this.affine = { offset: [...affine.offset], scale: [...affine.scale] };
    this.dropCompiledGraphs();
  }

  /** What pn2v prediction returns: the posterior mean (`mmse`, default) or the network's prior mean (`prior`). */
  get pn2vOutput(): Pn2vOutput {
    return this.pn2vOutputMode;
  }

  set pn2vOutput(output: Pn2vOutput) {
    if (output === this.pn2vOutputMode) return;
    this.pn2vOutputMode = output;
    this.version++;
  }

  /** Channels the prediction graph outputs: the UNet's, or pn2v's one estimate per input channel. */
  get outputChannels(): number {
    return this.loss === 'pn2v' ? this.architecture.in_channels : this.architecture.num_classes;
  }

  private pn2vSpec(): Pn2vSpec | undefined {
    if (this.loss !== 'pn2v') return undefined;
    if (!this.affine)
      throw new EngineError('pn2v needs the data normalization (setDataAffine) before it trains or predicts');
    return { noise: this.pn2vNoise!, affine: this.affine };
  }

  private dropCompiledGraphs(): void {
    for (const session of this.sessions.values())
      void session.then(
        (s) => s.release(),
        () => undefined,
      );
    this.sessions.clear();
    this.version++;
  }

  get architecture(): UNetConfig {
    return this.description.architecture;
  }

  get parameterCount(): number {
    return this.description.parameterLayout.size;
  }

  /** One optimizer step on a batch; returns the loss before the update. */
  async trainStep(batch: Batch, learningRate = this.learningRate): Promise<number> {
    this.checkBatch(batch);
    const stateNames = ['params', 'buffers', ...Object.keys(this.host.slots)];
    const masked = this.maskedIndexFeed(batch);
    const session = await this.session(
      masked ? `train-m${masked.dims[2]}` : 'train',
      batch.shape,
      (nchwcBlock) =>
        buildTrainingGraph(this.description, {
          inputShape: batch.shape,
          loss: this.loss,
          optimizer: this.optimizer,
          pn2v: this.pn2vSpec(),
          maskedPerPatch: masked?.dims[2],
          nchwcBlock,
        }),
      this.onDevice.keepOutputs(stateNames.map((name) => `${name}_out`)),
    );
    const step = this.host.step + 1;
    const feeds = {
      ...this.batchFeeds(batch),
      ...(masked ? { masked_index: masked } : {}),
      ...this.hostStateFeeds(),
      ...Object.fromEntries(
        Object.entries(this.host.slots).map(([name, data]) => [name, { data, dims: [data.length] }]),
      ),
      lr: { data: Float32Array.of(learningRate), dims: [] },
      step: { data: Float32Array.of(step), dims: [] },
      ...this.onDevice.feeds(),
    };
    const out = await runSessionOnDevice(this.runtime, session, feeds);
    const loss = (out.loss as { data: Float32Array }).data[0]!;
    if (!Number.isFinite(loss)) throw new EngineError(`training loss became ${loss} at step ${step}`);
    const onHost = this.onDevice.take(out, stateNames);
    const { params, buffers, ...slots } = onHost;
    this.host = {
      params: params ?? this.host.params,
      buffers: buffers ?? this.host.buffers,
      slots: { ...this.host.slots, ...slots },
      step,
    };
    this.hostIsStale = this.onDevice.held;
    this.version++;
    return loss;
  }

  /** The loss with batch norm in inference mode, and the prediction it was computed from. */
  async evaluate(batch: Batch): Promise<{ loss: number; prediction: Float32Array }> {
    this.checkBatch(batch);
    const session = await this.session('eval', batch.shape, (nchwcBlock) =>
      buildEvaluationGraph(this.description, batch.shape, this.loss, this.pn2vSpec(), nchwcBlock),
    );
    const { params, buffers } = this.onDevice.feeds();
    const out = await runSession(this.runtime, session, {
      ...this.batchFeeds(batch),
      ...this.hostStateFeeds(),
      ...(params ? { params } : {}),
      ...(buffers ? { buffers } : {}),
    });
    return { loss: out.loss.data[0], prediction: out.prediction.data };
  }

  /** Runs the prediction graph on (B, C, [Z,] Y, X); spatial sizes must be multiples of 2**depth. */
  async predict(
    input: Float32Array,
    shape: readonly number[],
  ): Promise<{ data: Float32Array; shape: number[] }> {
    const a = this.architecture;
    const multiple = sizeMultiple(a);
    if (shape.length !== a.conv_dims + 2 || shape[1] !== a.in_channels) {
      throw new EngineError(
        `prediction input must be (B, ${a.in_channels}, ${a.conv_dims === 3 ? 'Z, ' : ''}Y, X), got [${shape}]`,
      );
    }
    if (shape.slice(2).some((s) => s % multiple !== 0)) {
      throw new EngineError(
        `prediction input spatial size [${shape.slice(2)}] must be multiples of ${multiple}`,
      );
    }
    await this.syncState();
    if (!this.predictionSession || this.predictionSession.version !== this.version) {
      // Inference takes ORT's layout optimisations (NCHWc convolutions): ~1.5× faster than 'extended' here.
      this.predictionSession = {
        version: this.version,
        session: createSession(this.runtime, this.exportOnnx(), 'the prediction graph', {
          graphOptimizationLevel: 'all',
        }),
      };
    }
    const session = await this.predictionSession.session;
    const out = await runSession(this.runtime, session, { input: { data: input, dims: shape } });
    return { data: out.output.data, shape: [...out.output.dims] };
  }

  /** The prediction graph as ONNX bytes, weights included (for BMZ export and other runtimes). */
  exportOnnx(): Uint8Array {
    const pn2v = this.pn2vSpec();
    return buildPredictionGraph(
      this.description,
      this.state.params,
      this.state.buffers,
      pn2v && { ...pn2v, output: this.pn2vOutputMode },
    );
  }

  /** Parameters and buffers under PyTorch's names (`encoder.encoder_blocks.0.conv1.weight`), views of the state. */
  weights(): Record<string, NamedTensor> {
    return stateTensors(this.description, this.state, false);
  }

  /** Parameters, buffers and optimizer state under PyTorch-style names, for a safetensors checkpoint. */
  saveState(metadata: Record<string, string> = {}): Uint8Array {
    const tensors = stateTensors(this.description, this.state, true);
    return encodeSafetensors(tensors, { ...metadata, step: String(this.state.step) });
  }

  /** Restores what `saveState` wrote; optimizer state is optional (weights-only files load too). */
  loadState(bytes: Uint8Array, source = 'checkpoint'): Record<string, string> {
    const { tensors, metadata } = decodeSafetensors(bytes, source);
    this.loadTensors(tensors, source, Number(metadata.step ?? 0));
    return metadata;
  }

  /**
   * Sets parameters and buffers (and optimizer state, `optimizer.<slot>.<name>`, when given) from tensors named
   * as PyTorch names them; each must have the shape this architecture gives it, and none may be left over.
   */
  loadTensors(tensors: Record<string, NamedTensor>, source: string, step = 0): void {
    this.state = stateFromTensors(this.description, tensors, Object.keys(this.host.slots), source, step);
    this.version++;
  }

  private checkBatch(batch: Batch): void {
    const a = this.architecture;
    const expected = batch.shape.reduce((x, y) => x * y, 1);
    const targetSize = (expected / batch.shape[1]) * targetChannels(a, this.loss);
    if (batch.shape.length !== a.conv_dims + 2 || batch.shape[1] !== a.in_channels) {
      throw new EngineError(
        `batch must be (B, ${a.in_channels}, …) with ${a.conv_dims} spatial axes, got [${batch.shape}]`,
      );
    }
    if (batch.input.length !== expected || batch.target.length !== targetSize) {
      throw new EngineError(
        `batch arrays have ${batch.input.length}/${batch.target.length} values, expected ${expected}/${targetSize}`,
      );
    }
    if (isMaskedLoss(this.loss) && batch.mask?.length !== targetSize) {
      throw new EngineError(`the ${this.loss} loss needs a mask the size of the target`);
    }
  }

  /** pn2v trains on the masked pixels only (see `pn2vMaskedLoss`); the widest rows so far keep one session. */
  private maskedIndexFeed(batch: Batch): { data: BigInt64Array; dims: number[] } | undefined {
    if (this.loss !== 'pn2v') return undefined;
    const [size, channels] = batch.shape;
    const pixels = batch.shape.slice(2).reduce((a, b) => a * b, 1);
    const { data, perRow } = maskedIndices(batch.mask!, size * channels, pixels, this.maskedPerRow);
    this.maskedPerRow = perRow;
    return { data, dims: [size, channels, perRow] };
  }

  private batchFeeds(batch: Batch) {
    const targetDims = [
      batch.shape[0],
      targetChannels(this.architecture, this.loss),
      ...batch.shape.slice(2),
    ];
    return {
      input: { data: batch.input, dims: batch.shape },
      target: { data: batch.target, dims: targetDims },
      ...(isMaskedLoss(this.loss) ? { mask: { data: batch.mask!, dims: targetDims } } : {}),
    };
  }

  /** Parameters and buffers from host memory (overridden by the device copies where those are newer). */
  private hostStateFeeds() {
    return {
      params: { data: this.host.params, dims: [this.host.params.length] },
      ...(this.host.buffers.length > 0
        ? { buffers: { data: this.host.buffers, dims: [this.host.buffers.length] } }
        : {}),
    };
  }

  private session(
    kind: string,
    shape: readonly number[],
    build: (nchwcBlock: number | undefined) => Uint8Array,
    overrides: InferenceSession.SessionOptions = {},
  ): Promise<InferenceSession> {
    const key = `${kind}:${shape.join('x')}`;
    let session = this.sessions.get(key);
    if (!session) {
      const source = `the ${kind} graph for [${shape}]`;
      session = (async () => {
        const bytes = build(await this.runtime.nchwcBlock?.());
        return createSession(this.runtime, bytes, source, overrides);
      })();
      this.sessions.set(key, session);
    }
    return session;
  }

  /** Releases the ORT sessions. */
  async dispose(): Promise<void> {
    const sessions = [
      ...this.sessions.values(),
      ...(this.predictionSession ? [this.predictionSession.session] : []),
    ];
    this.sessions.clear();
    this.predictionSession = undefined;
    await this.onDevice.release();
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }
}

export function createModel(runtime: Runtime, options: ModelOptions = {}): Promise<Model> {
  return Model.create(runtime, options);
}
