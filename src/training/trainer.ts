/**
 * The training loop: epochs of optimizer steps, a validation loss per epoch, the learning-rate scheduler,
 * early stopping, checkpoints and resume — CAREamics' Lightning trainer, without Lightning.
 */
import {
  type Configuration,
  checkTrainerParamsImplemented,
  resolveCheckpointParams,
  resolveEarlyStoppingParams,
  resolveLrScheduler,
  resolveTrainerParams,
  saveConfigYaml,
} from '../config/index.js';
import { channelAffine, type PatchSpec, Rng, type RngState } from '../data/index.js';
import type { DeviceInfo, Model } from '../engine/index.js';
import { CareamicsError } from '../errors.js';
import { configWithStatistics, type Statistics, type TrainingData, TrainingSet } from './dataset.js';
import { BatchPrefetcher } from './patchProvider.js';
import { EarlyStopping, type EarlyStoppingState, LrScheduler, type SchedulerState } from './schedulers.js';
import type { RunStore } from './store.js';
import { epochCheckpoint, RUN_FILES } from './workdir.js';

export interface EpochRecord {
  epoch: number;
  step: number;
  train_loss: number;
  val_loss: number | null;
  lr: number;
  seconds: number;
}

export interface StepProgress {
  epoch: number;
  /** Steps done in this epoch, and how many it has. */
  stepInEpoch: number;
  stepsPerEpoch: number;
  globalStep: number;
  loss: number;
}

export interface TrainerCallbacks {
  onStep?(progress: StepProgress): void;
  onEpochEnd?(record: EpochRecord): void;
}

/** Everything a resumed run needs besides the weights; stored in each checkpoint's metadata and trainer.json. */
export interface TrainerState {
  /** Epochs completed. */
  epoch: number;
  globalStep: number;
  /** The training loop's generator (batch order, augmentation, masks). */
  rng: RngState;
  /** The patch sampler's generator (patch positions: stratified or random). */
  patchRng: RngState;
  seed: number;
  scheduler: SchedulerState;
  earlyStopping: EarlyStoppingState | null;
  bestValLoss: number | null;
  history: EpochRecord[];
  stats: Statistics;
  /** What the run last trained on (device and adapter). */
  device?: DeviceInfo;
}

export class TrainingError extends CareamicsError<'TrainingError'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TrainingError', message, options);
  }
}

const LAST = RUN_FILES.lastCheckpoint;

export interface FitOptions {
  signal?: AbortSignal;
  /** Continue from `checkpoints/last.safetensors` in the store, if there is one. */
  resume?: boolean;
  /**
   * Where a fresh run starts counting: a run continued from another trainer's checkpoint (a Lightning one),
   * whose weights and optimizer state the model holds already. Ignored when the store's checkpoint resumes.
   */
  start?: { epoch: number; globalStep: number };
  /**
   * Bytes the training images may take in memory: larger data is trained out of core (read on demand through a
   * chunk cache of a quarter of this), even with `in_memory: true`. Default: no limit (the Node CAREamist sets
   * half the machine's memory).
   */
  memoryBudgetBytes?: number;
  /** Hears one-line notices about the run (that it trains out of core, and why). */
  onMessage?: (message: string) => void;
}

export class Trainer {
  state?: TrainerState;

  constructor(
    readonly config: Configuration,
    readonly model: Model,
    readonly store?: RunStore,
    readonly callbacks: TrainerCallbacks = {},
  ) {}

  async fit(data: TrainingData, options: FitOptions = {}): Promise<TrainerState> {
    const { signal } = options;
    checkTrainerParamsImplemented(this.config.training_config);
    const trainer = resolveTrainerParams(this.config.training_config);
    const resumed = options.resume ? await this.restore() : undefined;
    const seed = resumed?.seed ?? this.config.data_config.seed ?? Math.floor(Math.random() * 2 ** 31);
    // Patch plans and the validation split depend only on the seed, so a resumed run rebuilds the same ones;
    // the sampler then continues from its saved state.
    const patchRng = new Rng(seed);
    const set = await TrainingSet.load(this.config, data, patchRng, {
      signal,
      memoryBudgetBytes: options.memoryBudgetBytes,
      onMessage: options.onMessage,
      stats: resumed?.stats,
    });
    if (resumed) patchRng.setState(resumed.patchRng);
    const scheduler = new LrScheduler(
      resolveLrScheduler(this.config.algorithm_config.lr_scheduler),
      this.model.learningRate,
    );
    const stopping = resolveEarlyStoppingParams(this.config.training_config);
    const earlyStopping = stopping ? new EarlyStopping(stopping) : undefined;
    if (resumed) {
      scheduler.state = resumed.scheduler;
      if (earlyStopping && resumed.earlyStopping) earlyStopping.state = resumed.earlyStopping;
    }
    const rng = resumed ? Rng.fromState(resumed.rng) : new Rng(seed + 1);
    const state: TrainerState = resumed ?? {
      epoch: options.start?.epoch ?? 0,
      globalStep: options.start?.globalStep ?? 0,
      rng: rng.getState(),
      patchRng: patchRng.getState(),
      seed,
      scheduler: scheduler.state,
      earlyStopping: earlyStopping?.state ?? null,
      bestValLoss: null,
      history: [],
      stats: set.stats,
    };
    state.device = this.model.runtime.device;
    state.stats = resumed?.stats ?? set.stats;
    this.state = state;
    // pn2v's noise model works in raw units: the loss maps the network's normalized values back.
    if (this.model.loss === 'pn2v')
      this.model.setDataAffine(
        channelAffine(state.stats.input, this.config.algorithm_config.model.in_channels),
      );
    const configYaml = saveConfigYaml(configWithStatistics(this.config, state.stats));
    await this.store?.write(RUN_FILES.config, configYaml);

    const batchSize = this.config.data_config.batch_size;
    const checkpoints = resolveCheckpointParams(this.config.training_config);
    // Like Lightning's Timer, a resumed run counts the time already trained towards max_time.
    const trainedSeconds = state.history.reduce((total, r) => total + r.seconds, 0);
    const fitStarted = performance.now() - trainedSeconds * 1000;
    const outOfTime = () =>
      trainer.max_time_seconds !== null &&
      (performance.now() - fitStarted) / 1000 >= trainer.max_time_seconds;
    const outOfSteps = () => trainer.max_steps >= 0 && state.globalStep >= trainer.max_steps;
    const outOfEpochs = () => trainer.max_epochs >= 0 && state.epoch >= trainer.max_epochs;
    /** How far the run is towards whichever limit ends it first (0–1), for schedules that follow it. */
    const progress = (stepInEpoch: number, stepsPerEpoch: number) =>
      Math.max(
        trainer.max_steps > 0 ? state.globalStep / trainer.max_steps : 0,
        trainer.max_epochs > 0 ? (state.epoch + stepInEpoch / stepsPerEpoch) / trainer.max_epochs : 0,
        trainer.max_time_seconds ? (performance.now() - fitStarted) / 1000 / trainer.max_time_seconds : 0,
      );
    while (!outOfEpochs() && !outOfSteps() && !outOfTime()) {
      const pastMinimum = state.epoch >= trainer.min_epochs && state.globalStep >= trainer.min_steps;
      if (earlyStopping?.state.stopped && pastMinimum) break;
      const started = performance.now();
      const batches = chunk(set.epochSpecs(rng), batchSize, trainer.limit_train_batches);
      let lossSum = 0;
      let steps = 0;
      // Patches are read (and normalized) ahead while the engine steps; augmentation and masks, which draw
      // from `rng`, are applied in order, so the run is the same whether reads overlap or not.
      const ahead = new BatchPrefetcher(batches, (specs) => set.readBatch('train', specs, signal));
      for (const _ of batches) {
        throwIfAborted(signal);
        if (scheduler.followsRunProgress) scheduler.atProgress(progress(steps, batches.length));
        const batch = set.trainingBatch(await ahead.next(), rng);
        const loss = await this.model.trainStep(batch, scheduler.lr);
        lossSum += loss;
        steps++;
        state.globalStep++;
        this.callbacks.onStep?.({
          epoch: state.epoch,
          stepInEpoch: steps,
          stepsPerEpoch: batches.length,
          globalStep: state.globalStep,
          loss,
        });
        // Like Lightning, step and time limits end the epoch early; it is still validated and saved.
        if (outOfSteps() || outOfTime()) break;
      }
      // Like Lightning, validation runs every check_val_every_n_epoch epochs; plateau and early stopping are
      // checked only when it did (or on the training loss when there is no validation at all).
      const validationOff = set.valSpecs.length === 0 || trainer.limit_val_batches === 0;
      const validates = !validationOff && (state.epoch + 1) % trainer.check_val_every_n_epoch === 0;
      const valLoss = validates
        ? await this.validate(set, state.seed, trainer.limit_val_batches, signal)
        : null;
      const trainLoss = lossSum / steps;
      const monitored = valLoss ?? (validationOff ? trainLoss : null);
      const record: EpochRecord = {
        epoch: state.epoch,
        step: state.globalStep,
        train_loss: trainLoss,
        val_loss: valLoss,
        lr: scheduler.lr,
        seconds: (performance.now() - started) / 1000,
      };
      scheduler.step(monitored);
      if (monitored !== null) earlyStopping?.check(monitored);
      state.epoch++;
      state.history.push(record);
      state.rng = rng.getState();
      state.patchRng = patchRng.getState();
      state.scheduler = scheduler.state;
      state.earlyStopping = earlyStopping?.state ?? null;
      const improved = valLoss !== null && (state.bestValLoss === null || valLoss < state.bestValLoss);
      if (improved) state.bestValLoss = valLoss;
      // A GPU keeps the state on the device between steps; each epoch's checkpoint brings it back.
      await this.model.syncState();
      await this.saveCheckpoints(state, improved, checkpoints.every_n_epochs, configYaml);
      this.callbacks.onEpochEnd?.(record);
    }
    return state;
  }

  /** Mean loss over the validation patches, batch norm in inference mode; masks are the same every epoch. */
  private async validate(
    set: TrainingSet,
    seed: number,
    limit: number | null,
    signal?: AbortSignal,
  ): Promise<number> {
    const batches = chunk(set.valSpecs, this.config.data_config.batch_size, limit, true);
    const rng = new Rng(seed + 2);
    let total = 0;
    let count = 0;
    const ahead = new BatchPrefetcher(batches, (specs) => set.readBatch('val', specs, signal));
    for (const specs of batches) {
      throwIfAborted(signal);
      const { loss } = await this.model.evaluate(set.validationBatch(await ahead.next(), rng));
      total += loss * specs.length;
      count += specs.length;
    }
    return total / count;
  }

  private async saveCheckpoints(
    state: TrainerState,
    improved: boolean,
    everyNEpochs: number | null,
    configYaml: string,
  ): Promise<void> {
    if (!this.store) return;
    const weights = this.model.saveState({ trainer: JSON.stringify(state), config: configYaml });
    await this.store.write(LAST, weights);
    if (improved) await this.store.write(RUN_FILES.bestCheckpoint, weights);
    if (everyNEpochs && state.epoch % everyNEpochs === 0) {
      await this.store.write(epochCheckpoint(state.epoch), weights);
    }
    await this.store.write(RUN_FILES.trainerState, `${JSON.stringify(state, null, 1)}\n`);
    await this.store.write(RUN_FILES.losses, lossesCsv(state.history));
  }

  /** Reads the last checkpoint, restores the model from it and returns its trainer state. */
  private async restore(): Promise<TrainerState | undefined> {
    const bytes = await this.store?.read(LAST);
    if (!bytes) return undefined;
    const metadata = this.model.loadState(bytes, `${this.store!.location}/${LAST}`);
    if (!metadata.trainer)
      throw new TrainingError(`${this.store!.location}/${LAST} has no trainer state to resume from`);
    return JSON.parse(metadata.trainer) as TrainerState;
  }
}

export function lossesCsv(history: readonly EpochRecord[]): string {
  const rows = history.map((r) =>
    [r.epoch, r.step, r.train_loss, r.val_loss ?? '', r.lr, r.seconds.toFixed(2)].join(','),
  );
  return `${['epoch', 'step', 'train_loss', 'val_loss', 'lr', 'seconds'].join(',')}\n${rows.join('\n')}\n`;
}

/**
 * Splits specs into batches. A last, partial batch is dropped (a new batch shape would compile another graph)
 * unless it is the only one or `keepPartial` is set. `limit` follows Lightning's limit_train_batches.
 */
function chunk(specs: PatchSpec[], size: number, limit: number | null, keepPartial = false): PatchSpec[][] {
  const batches: PatchSpec[][] = [];
  for (let i = 0; i < specs.length; i += size) batches.push(specs.slice(i, i + size));
  if (!keepPartial && batches.length > 1 && batches[batches.length - 1].length < size) batches.pop();
  if (limit === null) return batches;
  const count =
    Number.isInteger(limit) && limit !== 1 ? limit : Math.max(1, Math.floor(limit * batches.length));
  return batches.slice(0, count);
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new TrainingError('training was cancelled', { cause: signal.reason });
}
