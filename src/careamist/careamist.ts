/**
 * `CAREamist`: the one object a user needs — train N2V/N2V2/structN2V/CARE/N2N from a configuration, predict
 * with tiling, export ONNX and BioImage Model Zoo packages — mirroring CAREamics' `CAREamist`. Browser-safe:
 * the runtime and the run store are injected (`careamics-js/node` supplies onnxruntime-node, a work folder and
 * file paths).
 */

import type { ImportedBmz } from '../bmz/index.js';
import {
  type Configuration,
  loadConfigYaml,
  parseConfiguration,
  predictionChannels,
  resolveOptimizer,
  resolveTrainerParams,
  saveConfigYaml,
} from '../config/index.js';
import { channelAffine, MEAN_STD_EPS, type NormalizationStats, normalizationAffine } from '../data/index.js';
import {
  createModel,
  type Device,
  type DeviceInfo,
  decodeSafetensors,
  type Model,
  type NamedTensor,
  type Runtime,
} from '../engine/index.js';
import { type OptimizerSpec, type Pn2vNoise, type Pn2vOutput, unetHalo } from '../models/index.js';
import type { ModelFacts, Normalization, PredictFn } from '../prediction/index.js';
import {
  configuredStats,
  configWithStatistics,
  type FitOptions,
  type RunStore,
  type Statistics,
  Trainer,
  type TrainerCallbacks,
  type TrainerState,
  type TrainingData,
} from '../training/index.js';
import { type BmzExportDetails, exportTrainedModelToBmz, readCareamicsPackage } from './bmz.js';
import { isTorchCheckpointName, type LightningProgress, readLightningCheckpoint } from './lightning.js';
import { type ReadFile, resolvePn2vNoise, withNoiseModel } from './noiseModel.js';
import { CAREamistError, TiledModel } from './tiled.js';

export interface CAREamistOptions {
  runtime: Runtime;
  /** `cpu`, `webgpu` or `auto` (a hardware GPU if there is one); default: the runtime's own device. */
  device?: Device;
  /** Where checkpoints, config.yaml, trainer.json and losses.csv go; nothing is saved without one. */
  store?: RunStore;
  callbacks?: TrainerCallbacks;
  /** Hears what loading does differently from what was asked (an optimizer state that cannot carry over). */
  onWarning?: (message: string) => void;
  /** Reads files the configuration names (a pn2v noise model's `.npz`); Node's CAREamist reads from disk. */
  readFile?: ReadFile;
}

/** Options of `train`: see `FitOptions` for the memory budget that decides out-of-core training. */
export type TrainOptions = Pick<FitOptions, 'signal' | 'resume' | 'memoryBudgetBytes' | 'onMessage'>;

export class CAREamist extends TiledModel {
  readonly kind = 'checkpoint';
  config: Configuration;
  private model?: Model;
  private trainerState?: TrainerState;
  private stats?: Statistics;
  private lightningProgress?: LightningProgress;

  constructor(
    config: Configuration | unknown,
    readonly options: CAREamistOptions,
  ) {
    super();
    this.config = parseConfiguration(config).config;
  }

  /**
   * A CAREamist from a checkpoint: one `train` wrote (safetensors with the config and statistics inside), or
   * a CAREamics Lightning checkpoint (`.ckpt`; `source` names the file, its extension says which).
   */
  static async fromCheckpoint(
    bytes: Uint8Array,
    options: CAREamistOptions,
    source = 'checkpoint',
  ): Promise<CAREamist> {
    const careamist = new CAREamist(checkpointConfiguration(bytes, source), options);
    await careamist.restore(bytes, source);
    return careamist;
  }

  /**
   * Loads weights, optimizer state and statistics from a checkpoint of this configuration; a Lightning
   * checkpoint brings weights, batch-norm statistics, its optimizer state when it matches the configured optimizer
   * (else the optimizer starts fresh, with a warning), its epoch and step, and its configuration's statistics.
   */
  protected async restore(bytes: Uint8Array, source: string): Promise<void> {
    const { tensors, metadata, lightning } = decodeCheckpoint(bytes, source);
    await this.loadWeights(tensors, source, Number(metadata.step ?? 0));
    this.lightningProgress = lightning?.progress;
    if (lightning?.freshOptimizer) {
      const optimizer = resolveOptimizer(this.config.algorithm_config.optimizer).name;
      this.options.onWarning?.(`${source}: ${lightning.freshOptimizer}; ${optimizer} starts fresh`);
    }
    if (metadata.trainer) {
      this.trainerState = JSON.parse(metadata.trainer) as TrainerState;
      this.stats = this.trainerState.stats;
    } else {
      this.stats = configuredStats(this.config);
    }
  }

  /**
   * A CAREamist from a BioImage Model Zoo package holding CAREamics' UNet state dict and its `careamics.yaml`
   * (as CAREamics and careamics-js export them): trainable further, with a fresh optimizer, and exportable again.
   * Called on a subclass, makes one of it.
   */
  static async fromBmz<T extends CAREamist>(
    this: new (
      config: Configuration,
      options: CAREamistOptions,
    ) => T,
    bmz: ImportedBmz,
    options: CAREamistOptions,
  ): Promise<T> {
    const { config, tensors } = readCareamicsPackage(bmz);
    const careamist = new this(config, options);
    await careamist.loadWeights(tensors, bmz.source, 0);
    careamist.stats = configuredStats(careamist.config);
    return careamist;
  }

  private async loadWeights(tensors: Record<string, NamedTensor>, source: string, step: number) {
    const model = await this.ensureModel();
    model.loadTensors(tensors, source, step);
  }

  /**
   * Trains on the given images (targets for CARE and N2N). With `resume`, continues the store's last checkpoint,
   * or, when the store has none, the Lightning checkpoint this CAREamist was loaded from: its weights and
   * optimizer state are loaded already, and its epoch and step counts go on (as Lightning's `ckpt_path` does).
   */
  async train(data: TrainingData, options: TrainOptions = {}): Promise<TrainerState> {
    const model = await this.ensureModel();
    const trainer = new Trainer(this.config, model, this.options.store, this.options.callbacks);
    const lightning = options.resume ? this.lightningProgress : undefined;
    const start = lightning && { epoch: lightning.epochsDone, globalStep: lightning.globalStep };
    const onMessage = options.onMessage ?? this.options.onWarning;
    // Stopped or failed mid-epoch on a GPU, the state is still brought back: exportOnnx and checkpoint read it.
    const state = await trainer.fit(data, { ...options, start, onMessage }).finally(() => model.syncState());
    this.lightningProgress = undefined;
    this.trainerState = state;
    this.stats = state.stats;
    this.config = configWithStatistics(this.config, state.stats);
    return state;
  }

  /** Per-epoch losses, as CAREamics' `get_losses`. */
  getLosses(): { train_epoch: number[]; val_epoch: (number | null)[]; learning_rate: number[] } {
    const history = this.trainerState?.history ?? [];
    return {
      train_epoch: history.map((r) => r.train_loss),
      val_epoch: history.map((r) => r.val_loss),
      learning_rate: history.map((r) => r.lr),
    };
  }

  /**
   * The prediction graph with weights, as ONNX bytes (normalization is applied outside it); for pn2v it ends in
   * the posterior mean, or the prior mean with `{ pn2vOutput: 'prior' }`.
   */
  exportOnnx(options: { pn2vOutput?: Pn2vOutput } = {}): Uint8Array {
    const model = this.trainedModel();
    this.choosePn2vOutput(model, options.pn2vOutput);
    return model.exportOnnx();
  }

  /**
   * A checkpoint of the model as it is now (weights, optimizer state, configuration with statistics, trainer
   * state): what `train` saves each epoch, and what `CAREamist.fromCheckpoint` or `careamics predict` loads.
   */
  checkpoint(): Uint8Array {
    const model = this.trainedModel();
    return model.saveState({
      ...(this.trainerState ? { trainer: JSON.stringify(this.trainerState) } : {}),
      config: saveConfigYaml(this.config),
    });
  }

  /**
   * A BioImage Model Zoo package (zip, format 0.5, ONNX weights) of the trained model, tested before it is
   * returned: its test output is this model's prediction of the test input.
   */
  exportBmz(details: BmzExportDetails): Promise<Uint8Array> {
    if (this.config.algorithm_config.algorithm === 'pn2v')
      throw new CAREamistError(
        'BMZ export of pn2v is not supported yet (a CAREamics package would lack the noise model); export the ONNX graph, which includes the posterior',
      );
    const model = this.trainedModel();
    return exportTrainedModelToBmz(
      {
        model,
        runtime: model.runtime,
        config: this.config,
        normalization: this.normalization!,
        losses: this.getLosses(),
      },
      details,
    );
  }

  /** The training statistics as the affine map prediction applies; absent before training. */
  get normalization(): Normalization | undefined {
    return this.stats && toPredictionNormalization(this.stats);
  }

  /** The axes the model was trained on. */
  get axes(): string {
    return this.config.data_config.axes;
  }

  protected network(pn2vOutput?: Pn2vOutput): PredictFn {
    const model = this.trainedModel();
    this.choosePn2vOutput(model, pn2vOutput);
    return (batch, shape) => model.predict(batch, shape);
  }

  /** pn2v: the output asked for, else the posterior mean; other algorithms refuse the option by name. */
  private choosePn2vOutput(model: Model, pn2vOutput: Pn2vOutput | undefined): void {
    if (model.loss === 'pn2v') model.pn2vOutput = pn2vOutput ?? 'mmse';
    else if (pn2vOutput !== undefined)
      throw new CAREamistError(
        `pn2vOutput: only pn2v models have a posterior and a prior; this is ${this.config.algorithm_config.algorithm}`,
      );
  }

  async dispose(): Promise<void> {
    await this.model?.dispose();
  }

  /** Where the Lightning run this CAREamist was loaded from stopped (a `.ckpt`; until it trains on). */
  get lightning(): LightningProgress | undefined {
    return this.lightningProgress;
  }

  /** Normalization statistics used for training and prediction. */
  get statistics(): Statistics | undefined {
    return this.stats;
  }

  /** What the model runs on, once it exists (after `train`, or loading a checkpoint). */
  get device(): DeviceInfo | undefined {
    return this.model?.runtime.device;
  }

  get engineModel(): Model | undefined {
    return this.model;
  }

  /** What tiling needs to know about the UNet. */
  get facts(): ModelFacts {
    const m = this.config.algorithm_config.model;
    return {
      depth: m.depth,
      inChannels: m.in_channels,
      outChannels: predictionChannels(this.config.algorithm_config),
      is3D: m.conv_dims === 3,
      receptiveFieldHalo: unetHalo(m),
      // The prediction module's 1 KiB per input pixel is for 32 filters; memory grows with the filter count.
      bytesPerInputPixel:
        1024 * (m.num_channels_init / 32) * (m.independent_channels ? m.in_channels : 1) +
        // pn2v's posterior holds a few float32 tensors of all num_classes outputs (samples, likelihoods, weights).
        (this.config.algorithm_config.algorithm === 'pn2v' ? 4 * 4 * m.num_classes : 0),
    };
  }

  private trainedModel(): Model {
    if (!this.model || !this.stats)
      throw new CAREamistError('the model is not trained: call train() or load a checkpoint');
    if (this.model.loss === 'pn2v')
      this.model.setDataAffine(
        channelAffine(this.stats.input, this.config.algorithm_config.model.in_channels),
      );
    return this.model;
  }

  private async ensureModel(): Promise<Model> {
    if (!this.model) {
      const a = this.config.algorithm_config;
      const optimizer = resolveOptimizer(a.optimizer);
      const trainer = resolveTrainerParams(this.config.training_config);
      const gradientClip =
        trainer.gradient_clip_val !== null && trainer.gradient_clip_val > 0
          ? { value: trainer.gradient_clip_val, algorithm: trainer.gradient_clip_algorithm }
          : undefined;
      const spec: OptimizerSpec = {
        name: optimizer.name,
        parameters:
          optimizer.name === 'SGD'
            ? { momentum: optimizer.momentum, weight_decay: optimizer.weight_decay }
            : { betas: optimizer.betas, eps: optimizer.eps, weight_decay: optimizer.weight_decay },
        gradientClip,
      };
      let pn2vNoise: Pn2vNoise | undefined;
      if (a.algorithm === 'pn2v') {
        const resolved = await resolvePn2vNoise(a, this.options.readFile);
        pn2vNoise = resolved.noise;
        this.config = withNoiseModel(this.config, resolved.config);
      }
      this.model = await createModel(this.options.runtime, {
        architecture: a.model,
        loss: a.loss,
        pn2vNoise,
        optimizer: spec,
        learningRate: optimizer.lr,
        seed: this.config.data_config.seed ?? undefined,
        device: this.options.device,
      });
    }
    return this.model;
  }
}

/**
 * A checkpoint's configuration, tensors and metadata: safetensors (ours), or PyTorch by the file's extension
 * (then with what Lightning saved besides).
 */
function decodeCheckpoint(
  bytes: Uint8Array,
  source: string,
): {
  config: Configuration;
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
  lightning?: ReturnType<typeof readLightningCheckpoint>;
} {
  if (isTorchCheckpointName(source)) {
    const lightning = readLightningCheckpoint(bytes, source);
    const { config, tensors, step } = lightning;
    return { config, tensors, metadata: { step: String(step) }, lightning };
  }
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (!metadata.config) throw new CAREamistError(`${source} has no configuration in its metadata`);
  return { config: loadConfigYaml(metadata.config).config, tensors, metadata };
}

/** The configuration stored in a checkpoint (its metadata, or a Lightning checkpoint's hyper-parameters). */
export function checkpointConfiguration(bytes: Uint8Array, source = 'checkpoint'): Configuration {
  return decodeCheckpoint(bytes, source).config;
}

/** Any of the data module's statistics as the affine map (x − mean) / (std + 1e-6) prediction applies. */
export function toPredictionNormalization(stats: Statistics): Normalization {
  const affine = (s: NormalizationStats) => {
    const { offset, spread, eps } = normalizationAffine(s);
    return { mean: offset, std: spread.map((v) => v + (eps - MEAN_STD_EPS)) };
  };
  const input = affine(stats.input);
  const target = stats.target && affine(stats.target);
  return { ...input, ...(target ? { targetMean: target.mean, targetStd: target.std } : {}) };
}
