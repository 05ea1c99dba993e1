export { DataError } from '../data/errors.js';
export type { PreparedBatch, Statistics, TrainingData } from './dataset.js';
export { configWithStatistics, TrainingSet } from './dataset.js';
export type { EarlyStoppingState, SchedulerState } from './schedulers.js';
export { EarlyStopping, LrScheduler } from './schedulers.js';
export type { RunStore } from './store.js';
export { MemoryStore } from './store.js';
export type { EpochRecord, FitOptions, StepProgress, TrainerCallbacks, TrainerState } from './trainer.js';
export { CHECKPOINT_DIR, lossesCsv, Trainer, TrainingError } from './trainer.js';
